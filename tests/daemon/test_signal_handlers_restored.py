"""``connector run`` gives back the signal handlers it found, however it returns.

It installs its own SIGTERM/SIGINT/SIGHUP handlers; left behind after an in-process run
(CliRunner), they belonged to a closed daemon, and a pytest worker that later got
SIGINT printed "Exception ignored in ... KeyboardInterrupt" at exit.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.cli.daemon import EXIT_ALREADY_RUNNING, EXIT_CRASH, run
from connector.daemon.loop import Daemon
from connector.daemon.options import DaemonOptions
from tests.daemon.daemons import settings_file, solo_settings
from tests.daemon.fakes import erp_simulator, plugin_host

SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _ours(signum: int, _frame: object) -> None:
    """A handler the daemon cannot have installed."""


@pytest.fixture
def handlers() -> Iterator[dict[int, object]]:
    """Our own handler on every signal the daemon handles, put back afterwards."""
    before = {signum: signal.getsignal(signum) for signum in SIGNALS}
    for signum in SIGNALS:
        signal.signal(signum, _ours)
    try:
        yield {signum: signal.getsignal(signum) for signum in SIGNALS}
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    return settings_file(tmp_path, tenants)


def _run_once(config: Path) -> int:
    result = CliRunner().invoke(run, ["--once", "--config", str(config)])
    return result.exit_code


def test_a_pass_that_ran_restores_the_handlers(config: Path, handlers: dict) -> None:
    assert _run_once(config) == 0
    assert {signum: signal.getsignal(signum) for signum in SIGNALS} == handlers


def test_a_crashed_pass_restores_the_handlers(
    config: Path, handlers: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(self: Daemon) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(Daemon, "run_once", crash)
    assert _run_once(config) == EXIT_CRASH
    assert {signum: signal.getsignal(signum) for signum in SIGNALS} == handlers


def test_a_daemon_that_refused_to_start_restores_the_handlers(
    tmp_path: Path, handlers: dict
) -> None:
    settings = solo_settings(tmp_path)
    config = settings_file(tmp_path, settings.tenants_dir, database="connector.db")
    first = Daemon(settings, DaemonOptions(metrics_port=None), host=plugin_host(erp_simulator()))
    first.start()
    try:
        assert _run_once(config) == EXIT_ALREADY_RUNNING
    finally:
        first.close()
    assert {signum: signal.getsignal(signum) for signum in SIGNALS} == handlers
