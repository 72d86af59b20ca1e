"""``connector serve --workers N`` starts N processes, each of which serves the port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import REPO

WORKERS = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _workers(parent: int) -> list[int]:
    """uvicorn's worker processes under ``parent`` (its multiprocessing children)."""
    found = []
    for task in Path(f"/proc/{parent}/task").iterdir():
        for child in (task / "children").read_text().split():
            command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            if b"spawn_main" in command:
                found.append(int(child))
    return found


def _health(base: str) -> int:
    # A new connection each time: a kept-alive one stays with the worker that took it.
    return httpx.get(f"{base}/health", timeout=3).status_code


@pytest.fixture
def server(tmp_path: Path):
    (tmp_path / "tenants").mkdir()
    settings = tmp_path / "connector.yaml"
    settings.write_text(yaml.safe_dump({
        "database_url": f"sqlite:///{tmp_path / 'api.db'}", "tenants_dir": "tenants",
        "log_level": "WARNING", "log_format": "text",
    }))  # fmt: skip
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "connector", "--config", str(settings), "serve",
         "--port", str(port), "--workers", str(WORKERS)],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL, stderr=(tmp_path / "serve.log").open("wb"),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while len(_workers(process.pid)) < WORKERS or _try(base) != 200:
        log = (tmp_path / "serve.log").read_text(errors="replace")
        assert process.poll() is None, f"connector serve exited: {log}"
        assert time.monotonic() < deadline, f"no {WORKERS} workers answering: {log}"
        time.sleep(0.3)
    yield process, base
    process.send_signal(signal.SIGINT)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _try(base: str) -> int | None:
    try:
        return _health(base)
    except httpx.HTTPError:
        return None


def test_each_of_the_workers_serves_the_port(server) -> None:
    process, base = server
    workers = _workers(process.pid)
    assert len(workers) == WORKERS
    # Each worker alone: the others are stopped (briefly: uvicorn replaces a worker that
    # misses its health check), so whatever answers is that one worker.
    for serving in workers:
        others = [pid for pid in workers if pid != serving]
        for pid in others:
            os.kill(pid, signal.SIGSTOP)
        try:
            assert [_health(base) for _ in range(3)] == [200, 200, 200]
        finally:
            for pid in others:
                os.kill(pid, signal.SIGCONT)
    assert _workers(process.pid) == workers  # none was replaced meanwhile


def test_a_worker_reads_the_parents_settings_and_freezes_what_it_starts_with(
    tmp_path: Path, monkeypatch
) -> None:
    import gc

    from connector.cli.api import worker_app
    from connector.storage.db import Database

    (tmp_path / "tenants").mkdir()
    url = f"sqlite:///{tmp_path / 'api.db'}"
    Database(url).dispose()  # the parent migrates before the workers start
    settings = tmp_path / "connector.yaml"
    settings.write_text(yaml.safe_dump({"database_url": url, "tenants_dir": "tenants",
                                        "database_pool": {"size": 3}}))  # fmt: skip
    monkeypatch.setenv("CONNECTOR_CONFIG", str(settings))
    try:
        app = worker_app()
        assert gc.get_freeze_count() > 10_000  # the modules, the app, the settings
    finally:
        gc.unfreeze()
    runtime = app.state.runtime
    try:
        assert runtime.settings.database_pool.size == 3
        assert runtime.db.url == url
    finally:
        runtime.db.dispose()


def test_the_settings_pool_is_the_database_pool(db_url: str, tmp_path: Path) -> None:
    from connector.config.settings import DaemonSettings
    from connector.runtime.runtime import open_runtime

    (tmp_path / "tenants").mkdir()
    settings = DaemonSettings(
        database_url=db_url, tenants_dir=tmp_path / "tenants",
        database_pool={"size": 7, "overflow": 2},
    )  # fmt: skip
    runtime = open_runtime(settings)
    try:
        pool = runtime.db.engine.pool
        if runtime.db.dialect == "postgresql":
            assert (pool.size(), pool._max_overflow) == (7, 2)
        else:  # SQLite: one writer at a time, SQLAlchemy's own pool
            assert pool.size() == 5
    finally:
        runtime.db.dispose()
