"""/readyz answers within a second when the database stops answering; limits are settings.

Regression (issue 18, defect 8): during a silent network partition (packets dropped,
not refused) /readyz hung instead of answering 503. The partition is simulated by a
local port that accepts connections and never replies.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from connector.config.settings import DaemonSettings, load_settings
from connector.daemon.health import BoundedProbe, HealthServer
from connector.daemon.loop import Daemon
from connector.daemon.options import DaemonOptions
from connector.storage.db import DatabaseTimeouts, reader_engine
from tests.daemon.fakes import erp_simulator, plugin_host


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port on 127.0.0.1 whose connections are accepted by the kernel, never answered."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    yield listener.getsockname()[1]
    listener.close()


def _get(port: int, path: str) -> tuple[int, dict, float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    return status, json.loads(body), time.monotonic() - started


def test_readyz_answers_503_within_a_second_when_the_database_is_silent(
    tmp_path: Path, silent_server: int
) -> None:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    settings = DaemonSettings(
        database_url=f"sqlite:///{tmp_path / 'c.db'}", tenants_dir=tenants,
        output_dir=tmp_path / "out",
    )  # fmt: skip
    daemon = Daemon(settings, DaemonOptions(metrics_port=0), host=plugin_host(erp_simulator()))
    daemon.start(serve=True)
    assert daemon.runtime is not None and daemon.server is not None
    healthy = daemon.runtime.db.engine
    # The network to the database goes silent; no connect limit, so only the probe's
    # own deadline can answer.
    silent = reader_engine(
        f"postgresql+psycopg://connector@127.0.0.1:{silent_server}/connector",
        DatabaseTimeouts(connect_seconds=0),
    )
    try:
        port = daemon.server.port
        assert _get(port, "/readyz")[0] == 200
        daemon.runtime.db.engine = silent

        first = _get(port, "/readyz")
        again = _get(port, "/readyz")  # joins the check still stuck, starts no other
        live = _get(port, "/healthz")

        for status, body, seconds in (first, again):
            assert status == 503 and seconds < 2
            assert body == {"status": "unavailable", "reason": "no answer within 1 s"}
        assert live[0] == 200 and live[2] < 2
    finally:
        daemon.runtime.db.engine = healthy
        daemon.close()
        silent.dispose()


def test_a_probe_that_raises_or_answers_in_time_is_reported_as_it_is() -> None:
    def broken() -> tuple[bool, dict]:
        raise ConnectionError("gone")

    assert BoundedProbe(lambda: (True, {"tenants": 2}))() == (True, {"tenants": 2})
    server = HealthServer("127.0.0.1", 0, CollectorRegistry(), broken, broken).start()
    try:
        status, body, _ = _get(server.port, "/readyz")
    finally:
        server.stop()
    assert status == 503 and body == {"status": "unavailable", "error": "ConnectionError"}


def test_database_timeouts_are_settings_overridable_by_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert DaemonSettings().database_timeouts.timeouts() == DatabaseTimeouts()
    config = tmp_path / "connector.yaml"
    config.write_text("database_timeouts:\n  statement_seconds: 1800\n  lock_seconds: 30\n")
    monkeypatch.setenv("CONNECTOR_DATABASE_TIMEOUTS__LOCK_SECONDS", "45")

    timeouts = load_settings(config).database_timeouts.timeouts()

    assert timeouts == DatabaseTimeouts(statement_seconds=1800, lock_seconds=45)
