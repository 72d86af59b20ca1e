"""Health, readiness and Prometheus metrics over HTTP; JSON logs without secrets."""

from __future__ import annotations

import io
import json
import logging
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from connector.daemon.clock import FrozenClock
from connector.daemon.logs import configure_logging, log_context
from connector.daemon.options import DaemonOptions
from tests.daemon.daemons import CLOSED, approving_daemon
from tests.daemon.fakes import (
    ErpDown,
    erp_simulator,
    plugin_host,
    write_charges,
    write_tenant,
)


def _get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.fixture
def two_tenants(tmp_path: Path) -> Path:
    """northwind pushes to a working ERP; fabrikam's ERP answers 503 to everything."""
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    (tenants / "nw").mkdir()
    (tenants / "fb").mkdir()
    write_tenant(tenants, "northwind", [("C1", "Blue Harbor", "ap@bh.example", "111111111111"),
                                        ("C2", "Summit", "ap@summit.example", "222222222222")],
                 data="nw/charges.json")  # fmt: skip
    write_charges(tenants / "nw", {"111111111111": "10.00", "222222222222": "20.00"})
    write_tenant(tenants, "fabrikam", [("F1", "Fabrikam", "ap@fabrikam.example", "333333333333")],
                 data="fb/charges.json", sink="erp-down")  # fmt: skip
    write_charges(tenants / "fb", {"333333333333": "30.00"})
    return tenants


def test_healthz_readyz_and_metrics_report_the_daemons_state(
    tmp_path: Path, two_tenants: Path
) -> None:
    clock = FrozenClock(CLOSED)
    daemon = approving_daemon(
        tmp_path,
        two_tenants,
        ("northwind", "fabrikam"),
        DaemonOptions(metrics_port=0),
        host=plugin_host(erp_simulator(), more_sinks=[ErpDown]),
        clock=clock,
    ).start(serve=True)
    try:
        port = daemon.server.port
        daemon.run_once()
        clock.advance(seconds=90)  # the refresh was 90 s ago

        status, body = _get(port, "/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        status, body = _get(port, "/readyz")
        ready = json.loads(body)
        assert status == 200 and ready["tenants"] == 2 and ready["leader"] is True

        status, body = _get(port, "/metrics")
        assert status == 200
        got = _samples(body.decode())
        nw, fb = ("tenant", "northwind"), ("tenant", "fabrikam")
        assert got[("connector_statements", (("status", "Open"), nw))] == 2
        assert got[("connector_statements", (("status", "Open"), fb))] == 1
        assert got[("connector_outbox_depth", (("state", "delivered"), nw))] == 2
        assert got[("connector_outbox_depth", (("state", "failed"), fb))] == 1
        assert ("connector_outbox_oldest_age_seconds", (fb,)) in got
        assert ("connector_outbox_oldest_age_seconds", (nw,)) not in got  # all delivered
        pushes = "connector_pushes_total"
        assert got[(pushes, (("result", "delivered"), ("sink", "erp-sim"), nw))] == 2
        assert got[(pushes, (("result", "failed"), ("sink", "erp-down"), fb))] == 1
        refresh = "connector_provider_refresh_age_seconds"
        assert got[(refresh, (("provider", "cloud"), nw))] == 90
        assert got[("connector_loop_duration_seconds_count", ())] == 1
        assert got[("connector_leader", ())] == 1
        assert got[("connector_tenants", ())] == 2

        daemon.stop()  # draining: no longer ready, still alive
        assert _get(port, "/readyz")[0] == 503
        assert _get(port, "/healthz")[0] == 200
        assert _get(port, "/nothing")[0] == 404
    finally:
        daemon.close()


def test_logs_are_json_lines_with_ids_and_never_show_a_secret(
    tmp_path: Path, two_tenants: Path, monkeypatch
) -> None:
    secret = "prov-TOKEN-7f3a9c1e5b"
    monkeypatch.setenv("TEST_PROVIDER_TOKEN", secret)
    # A third tenant whose provider rejects its token and echoes it in the error.
    write_tenant(
        two_tenants, "leaky", [("L1", "Leaky", "ap@leaky.example", "444444444444")],
        data="nw/charges.json",
        extra_settings="      token: {secret_env: TEST_PROVIDER_TOKEN}\n      accepts: other\n",
    )  # fmt: skip
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    redactor = configure_logging("INFO", "json", stream=stream)
    try:
        daemon = approving_daemon(
            tmp_path,
            two_tenants,
            ("northwind", "fabrikam"),
            host=plugin_host(erp_simulator(), more_sinks=[ErpDown]),
            redactor=redactor,
        ).start()
        try:
            report = daemon.run_once()
            with log_context(tenant="leaky"):
                logging.getLogger("test").warning("retrying with password=%s", "hunter2-xyz")
        finally:
            daemon.close()
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    # The failing tenant failed alone; the others carried on.
    assert report.failed == ["unit/leaky/1-billing/cloud"], stream.getvalue()
    assert "unit/northwind/2-outbox" in report.done
    output = stream.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    assert lines and all({"ts", "level", "logger", "message"} <= set(e) for e in lines)
    failure = next(e for e in lines if e["level"] == "ERROR" and e.get("tenant") == "leaky")
    assert failure["provider"] == "cloud" and failure["unit"] == "unit/leaky/1-billing/cloud"
    assert "PermissionError" in failure["exception"] and "token=***" in failure["exception"]
    pushed = [e for e in lines if e["message"].startswith("pushed NW-")]
    assert {e["tenant"] for e in pushed} == {"northwind"} and all("statement" in e for e in pushed)
    assert secret not in output and "hunter2-xyz" not in output


def test_a_failing_request_is_logged_not_printed_to_stderr(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """Regression (issue 18): a request that failed in the health server (here the
    metrics registry raising) printed socketserver's raw traceback to stderr, outside
    the JSON log; a probe that raised was not logged at all."""
    from prometheus_client import CollectorRegistry

    from connector.daemon.health import HealthServer

    class Broken:
        def collect(self):  # type: ignore[no-untyped-def]
            raise RuntimeError("collector broke")

    registry = CollectorRegistry()
    registry.register(Broken())  # type: ignore[arg-type]

    def probe() -> tuple[bool, dict]:
        raise ValueError("probe broke")

    server = HealthServer("127.0.0.1", 0, registry, probe, probe).start()
    try:
        with caplog.at_level(logging.WARNING, logger="connector.daemon.health"):
            with pytest.raises(Exception):  # noqa: B017 (the connection is dropped)
                _get(server.port, "/metrics")
            status, _ = _get(server.port, "/readyz")
    finally:
        server.stop()
    assert status == 503
    assert "Traceback" not in capfd.readouterr().err
    logged = [r for r in caplog.records if r.exc_info]
    assert {r.exc_info[0] for r in logged} == {RuntimeError, ValueError}
