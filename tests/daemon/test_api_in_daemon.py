"""``api.enabled``: the daemon serves the billing API while it runs, and stops it with
itself; a port already taken stops the daemon from starting, saying which."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from connector.config.errors import ConfigError
from connector.config.settings import load_settings
from connector.daemon.loop import Daemon
from connector.daemon.options import DaemonOptions
from tests.conftest import REPO
from tests.daemon.conftest import _free_port
from tests.daemon.daemons import solo_settings
from tests.daemon.fakes import erp_simulator, plugin_host


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_the_running_daemon_serves_health_and_stopping_it_closes_the_port(
    tmp_path: Path,
) -> None:
    port = _free_port()
    options = DaemonOptions(metrics_port=None, api_port=port, tick_seconds=0.1)
    daemon = Daemon(solo_settings(tmp_path), options, host=plugin_host(erp_simulator()))
    daemon.start(serve=True)
    loop = threading.Thread(target=daemon.run_forever, name="test-daemon")
    loop.start()
    try:
        status, body = _get(f"http://127.0.0.1:{port}/health")
        assert status == 200
        assert body == {"status": "ok", "database": "ok"}
        # Keys are checked: the API is the real one, not a stub.
        assert _get(f"http://127.0.0.1:{port}/v1/statements")[0] == 401
    finally:
        daemon.stop()
        loop.join(10)
        daemon.close()
    assert not loop.is_alive()
    assert not _accepts(port)
    assert daemon.api is None


def test_without_api_enabled_nothing_listens_on_the_api_port(tmp_path: Path) -> None:
    port = _free_port()
    options = DaemonOptions(metrics_port=None, api_port=None)
    daemon = Daemon(solo_settings(tmp_path), options, host=plugin_host(erp_simulator()))
    daemon.start(serve=True)
    try:
        assert daemon.api is None
        assert not _accepts(port)
    finally:
        daemon.close()


def test_a_taken_api_port_stops_the_start_and_frees_the_sqlite_lock(tmp_path: Path) -> None:
    settings = solo_settings(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        options = DaemonOptions(metrics_port=None, api_port=port)
        with pytest.raises(ConfigError) as refused:
            Daemon(settings, options, host=plugin_host(erp_simulator())).start(serve=True)
    message = str(refused.value)
    assert f"cannot listen on 127.0.0.1:{port}" in message
    assert "api.port" in message
    # The failed start released the SQLite lock: another daemon may start.
    Daemon(settings, DaemonOptions(metrics_port=None), host=plugin_host(erp_simulator())).start(
        serve=True
    ).close()


def test_api_enabled_in_the_settings_file_turns_the_api_on_at_its_port(tmp_path: Path) -> None:
    path = tmp_path / "connector.yaml"
    path.write_text("api:\n  enabled: true\n  host: 127.0.0.2\n  port: 8181\n")
    options = DaemonOptions.from_settings(load_settings(path))
    assert (options.api_host, options.api_port) == ("127.0.0.2", 8181)
    path.write_text("api:\n  port: 8181\n")
    assert DaemonOptions.from_settings(load_settings(path)).api_port is None


WRAPPER = """\
import sys
sys.path.insert(0, {repo!r})
from tests.daemon import fakes
import connector.daemon.loop as loop

loop.load_plugins = lambda: fakes.plugin_host(fakes.erp_simulator())
from connector.cli.daemon import run
run()
"""


def test_sigterm_stops_connector_run_and_its_api_within_the_shutdown_bound(
    tmp_path: Path,
) -> None:
    """shutdown_seconds is 6: the process must be gone, port closed, well before that."""
    settings = solo_settings(tmp_path)
    port = _free_port()
    config = tmp_path / "connector.yaml"
    config.write_text(
        f"database_url: {settings.database_url}\ntenants_dir: {settings.tenants_dir}\n"
        f"output_dir: {tmp_path / 'out'}\nlog_format: text\nmetrics: {{port: 0}}\n"
        f"schedule: {{shutdown_seconds: 6}}\napi: {{enabled: true, port: {port}}}\n"
    )
    wrapper = tmp_path / "daemon.py"
    wrapper.write_text(WRAPPER.format(repo=str(REPO)))
    env = {**os.environ, "CONNECTOR_CONFIG": str(config)}
    proc = subprocess.Popen(
        [sys.executable, str(wrapper)], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not _accepts(port):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the API did not come up"
            time.sleep(0.1)
        assert _get(f"http://127.0.0.1:{port}/health")[0] == 200
        proc.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        code = proc.wait(timeout=15)
        took = time.monotonic() - stopped
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = proc.stderr.read() if proc.stderr else ""
    assert code == 0, log
    assert took < 6, f"stopped after {took:.1f}s"
    assert "shutdown took longer" not in log
    assert not _accepts(port)
