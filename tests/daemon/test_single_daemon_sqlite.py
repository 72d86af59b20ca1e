"""On SQLite only one daemon may run: a second one refuses to start, saying why."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.cli.daemon import EXIT_ALREADY_RUNNING, run
from connector.config.settings import DaemonSettings
from connector.daemon.loop import Daemon
from connector.daemon.options import DaemonOptions
from connector.daemon.singleton import DaemonAlreadyRunning
from tests.daemon.fakes import erp_simulator, plugin_host, write_charges, write_tenant


def _settings(tmp_path: Path) -> DaemonSettings:
    tenants = tmp_path / "tenants"
    tenants.mkdir(exist_ok=True)
    write_tenant(tenants, "solo", [("C1", "Solo Co", "ap@solo.example", "111111111111")])
    write_charges(tenants, {"111111111111": "1.00"})
    return DaemonSettings(
        database_url=f"sqlite:///{tmp_path / 'connector.db'}",
        tenants_dir=tenants,
        output_dir=tmp_path / "out",
    )


def test_a_second_daemon_on_the_same_sqlite_file_refuses_to_start(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
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
    settings = _settings(tmp_path)
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
