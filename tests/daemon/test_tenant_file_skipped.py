"""Issue 18: whatever one tenant file contains, the daemon serves the other tenants.

An unquoted impossible date (``effective: 2026-02-30``) raised a bare ValueError while
the tenants were loaded: ``connector run`` died at start with a traceback and exit
code 1, which the systemd unit does not restart, so every tenant stopped. Now the file
is skipped like any other broken file: logged with its line, listed on ``/readyz``,
counted in ``connector_tenant_file_problems``, and read again on the next reload.
"""

from __future__ import annotations

import configparser
import json
import logging
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.cli.daemon import EXIT_ALREADY_RUNNING, EXIT_CRASH, run
from connector.cli.support import EXIT_CONFIG
from connector.config.settings import DaemonSettings
from connector.daemon.loop import Daemon
from connector.daemon.options import DaemonOptions
from tests.conftest import REPO
from tests.daemon.daemons import approving_daemon, settings_file
from tests.daemon.fakes import (
    erp_simulator,
    plugin_host,
    write_charges,
    write_tenant,
)
from tests.daemon.test_observability import _get, _samples

BILLING = "unit/{}/1-billing/cloud"
EFFECTIVE_LINE = 22  # "      - effective: 2026-01-01" in tests.daemon.fakes.TENANT


def _break_date(path: Path, day: str) -> None:
    text = path.read_text()
    assert text.splitlines()[EFFECTIVE_LINE - 1].strip() == "- effective: 2026-01-01"
    path.write_text(text.replace("effective: 2026-01-01", f"effective: {day}"))


@pytest.mark.parametrize("day", ["2026-02-30", "2026-13-01"])
def test_a_file_with_an_impossible_date_is_skipped_reported_and_the_others_are_served(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, day: str
) -> None:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    write_tenant(tenants, "northwind", [("C1", "Blue", "ap@blue.example", "111111111111")])
    bad = write_tenant(tenants, "fabrikam", [("F1", "Fab", "ap@fab.example", "222222222222")])
    write_charges(tenants, {"111111111111": "10.00", "222222222222": "20.00"})
    _break_date(bad, day)
    caplog.set_level(logging.ERROR, logger="connector.daemon.tenants")
    daemon = approving_daemon(
        tmp_path, tenants, ("northwind", "fabrikam"), DaemonOptions(metrics_port=0)
    ).start(serve=True)
    try:
        assert sorted(daemon.runtime.tenants) == ["northwind"]
        report = daemon.run_once()
        assert BILLING.format("northwind") in report.done and report.failed == []

        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert f"fabrikam.yaml:{EFFECTIVE_LINE}: pricebooks[0].versions[0].effective" in logged
        assert f"{day} is not a calendar date" in logged

        port = daemon.server.port
        status, body = _get(port, "/readyz")
        ready = json.loads(body)
        assert status == 200  # the good tenants are served
        assert ready["tenants"] == 1 and ready["skipped_tenant_files"] == {"fabrikam.yaml": 1}
        got = _samples(_get(port, "/metrics")[1].decode())
        assert got[("connector_tenant_file_problems", (("file", "fabrikam.yaml"),))] == 1
        assert got[("connector_tenants", ())] == 1

        # Fixed on disk: served from the next reload, no restart, no longer reported.
        write_tenant(tenants, "fabrikam", [("F1", "Fab", "ap@fab.example", "222222222222")])
        daemon.reload_tenants()
        assert sorted(daemon.runtime.tenants) == ["fabrikam", "northwind"]
        ready = json.loads(_get(port, "/readyz")[1])
        assert ready["skipped_tenant_files"] == {}
        got = _samples(_get(port, "/metrics")[1].decode())
        assert not any(name == "connector_tenant_file_problems" for name, _ in got)
    finally:
        daemon.close()


def test_a_file_no_loader_can_read_is_skipped_without_stopping_the_daemon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: a bug in checking one file costs that file, not the daemon."""
    import connector.config.loader as loader

    tenants = tmp_path / "tenants"
    tenants.mkdir()
    write_tenant(tenants, "northwind", [("C1", "Blue", "ap@blue.example", "111111111111")])
    write_tenant(tenants, "fabrikam", [("F1", "Fab", "ap@fab.example", "222222222222")])
    real = loader.cross_reference_problems

    def explode(data):  # type: ignore[no-untyped-def]
        if data.get("tenant") == "fabrikam":
            raise RuntimeError("a bug")
        return real(data)

    monkeypatch.setattr(loader, "cross_reference_problems", explode)
    settings = DaemonSettings(database_url=f"sqlite:///{tmp_path / 'c.db'}", tenants_dir=tenants)
    daemon = Daemon(
        settings, DaemonOptions(metrics_port=None), host=plugin_host(erp_simulator())
    ).start()
    try:
        assert sorted(daemon.runtime.tenants) == ["northwind"]
        [skipped] = daemon.runtime.skipped.values()
        assert "RuntimeError: a bug" in skipped.issues[0].message
    finally:
        daemon.close()


@pytest.fixture
def example_and_broken(tmp_path: Path) -> Path:
    """The example tenant (its bundled AWS data) and a copy whose date is impossible."""
    tenants = tmp_path / "tenants"
    shutil.copytree(REPO / "config/tenants", tenants)
    path = tenants / "acme.yaml"
    text = path.read_text().replace(
        "../../connector/demo_data/aws", str(REPO / "connector/demo_data/aws")
    )
    path.write_text(text)
    (tenants / "bee.yaml").write_text(
        text.replace("tenant: acme", "tenant: bee").replace(
            "effective: 2026-01-01", "effective: 2026-13-01"
        )
    )
    return settings_file(tmp_path, tenants, "metrics: {port: 0}\n")


def test_connector_run_once_serves_the_good_tenants_and_exits_0(
    example_and_broken: Path,
) -> None:
    result = CliRunner().invoke(
        run, ["--once", "--config", str(example_and_broken)], catch_exceptions=False
    )
    text = " ".join(result.output.split())
    assert result.exit_code == 0, text
    assert "bee.yaml" in text and "2026-13-01 is not a calendar date" in text
    assert "unit/acme/1-billing/aws" in text


def test_the_units_restart_policy_stops_only_on_what_a_restart_cannot_fix() -> None:
    """Exit 1 (the daemon's own configuration) and 7 (SQLite taken) end the service;
    a tenant file's problems never reach an exit code, so they cannot stop it."""
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(REPO / "deploy/billing-connector.service")
    codes = {int(c) for c in unit["Service"]["RestartPreventExitStatus"].split()}
    assert codes == {EXIT_CONFIG, EXIT_ALREADY_RUNNING}
    assert unit["Service"]["Restart"] == "on-failure"


def test_an_unexpected_crash_exits_70_so_the_unit_restarts_it(
    example_and_broken: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash used to exit 1, which the unit reads as a configuration error and does
    not restart; 70 is not in RestartPreventExitStatus."""

    def crash(self) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug")

    monkeypatch.setattr(Daemon, "run_once", crash)
    result = CliRunner().invoke(run, ["--once", "--config", str(example_and_broken)])
    assert result.exit_code == EXIT_CRASH
    assert "unexpected error" in result.output and "RuntimeError: a bug" in result.output
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(REPO / "deploy/billing-connector.service")
    assert str(EXIT_CRASH) not in unit["Service"]["RestartPreventExitStatus"].split()
