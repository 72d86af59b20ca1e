"""On SQLite only one daemon may run: a second one refuses to start, saying why."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.cli.daemon import EXIT_ALREADY_RUNNING, run
from connector.daemon.loop import Daemon
from connector.daemon.options import DaemonOptions
from connector.daemon.singleton import DaemonAlreadyRunning
from tests.daemon.daemons import solo_settings
from tests.daemon.fakes import erp_simulator, plugin_host


def test_a_second_daemon_on_the_same_sqlite_file_refuses_to_start(tmp_path: Path) -> None:
    settings = solo_settings(tmp_path)
    options = DaemonOptions(metrics_port=None)
    first = Daemon(settings, options, host=plugin_host(erp_simulator())).start()
    try:
        with pytest.raises(DaemonAlreadyRunning) as refused:
            Daemon(settings, options, host=plugin_host(erp_simulator())).start()
        message = str(refused.value)
        assert f"another connector daemon (pid {os.getpid()}) is already running" in message
        assert str(tmp_path / "connector.db") in message
        assert "only one daemon may use a SQLite database" in message
        assert "PostgreSQL" in message
    finally:
        first.close()
    # Once the first one stopped, a new one starts.
    Daemon(settings, options, host=plugin_host(erp_simulator())).start().close()


def test_connector_run_exits_7_with_the_message_when_a_daemon_holds_the_file(
    tmp_path: Path,
) -> None:
    settings = solo_settings(tmp_path)
    (tmp_path / "connector.yaml").write_text(
        f"database_url: {settings.database_url}\ntenants_dir: {settings.tenants_dir}\n"
        f"output_dir: {tmp_path / 'out'}\n"
    )
    first = Daemon(settings, DaemonOptions(metrics_port=None), host=plugin_host(erp_simulator()))
    first.start()
    try:
        result = CliRunner().invoke(
            run, ["--once", "--config", str(tmp_path / "connector.yaml")], catch_exceptions=False
        )
    finally:
        first.close()
    assert result.exit_code == EXIT_ALREADY_RUNNING
    assert "is already running on the SQLite database" in " ".join(result.output.split())
