"""The daemon under systemd: notifications, reload on SIGHUP, and the unit's sandbox.

systemd is not PID 1 here, so the tests play its parts: a datagram socket stands in
for ``$NOTIFY_SOCKET``, ``systemd-analyze`` scores the unit offline, and
``unit_sandbox.py`` loads the unit's seccomp filters (system calls, address families,
no writable-executable memory) around the real daemon and the demo's pipeline.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.daemon.systemd import ServiceNotifier
from tests.conftest import REPO
from tests.daemon.daemons import settings_file
from tests.daemon.fakes import write_charges, write_tenant

UNIT = REPO / "deploy" / "billing-connector.service"
SANDBOX = Path(__file__).with_name("unit_sandbox.py")

WRAPPER = """\
import sys
sys.path.insert(0, {repo!r})
from tests.daemon import fakes
import connector.daemon.loop as loop

# The test's plugins instead of the installed ones.
host = fakes.plugin_host(fakes.erp_simulator())
loop.load_plugins = lambda: host
from connector.cli.daemon import run
run()
"""

CUSTOMER = [("C1", "Solo Co", "ap@solo.example", "111111111111")]


class NotifySocket:
    """systemd's side of sd_notify: an abstract-namespace datagram socket."""

    def __init__(self) -> None:
        self.address = f"@billing-connector-test-{uuid.uuid4().hex}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.address[1:])
        self.messages: list[dict[str, str]] = []

    def receive_until(self, key: str, value: str | None = None, seconds: float = 30) -> dict:
        """Messages until one has ``key`` (equal to ``value`` when given); that one."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                break
            message = dict(line.split("=", 1) for line in data.decode().splitlines())
            self.messages.append(message)
            if key in message and (value is None or message[key] == value):
                return message
        raise AssertionError(f"no {key}={value or '*'} within {seconds}s: {self.messages}")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def notify_socket() -> Iterator[NotifySocket]:
    sock = NotifySocket()
    try:
        yield sock
    finally:
        sock.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _readyz(port: int) -> dict:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())


def test_daemon_notifies_systemd_and_rereads_tenant_files_on_sighup(
    tmp_path: Path, notify_socket: NotifySocket
) -> None:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    write_tenant(tenants, "solo", CUSTOMER)
    write_charges(tenants, {"111111111111": "10.00"})
    settings = settings_file(tmp_path, tenants, database="connector.db")
    wrapper = tmp_path / "daemon.py"
    wrapper.write_text(WRAPPER.format(repo=str(REPO)))
    port = _free_port()
    env = {
        **os.environ,
        "CONNECTOR_CONFIG": str(settings),
        "NOTIFY_SOCKET": notify_socket.address,
        "WATCHDOG_USEC": "300000",  # a ping every 0.1 s
    }
    # As the unit runs it: under its system call filter and memory protection.
    command = [sys.executable, str(SANDBOX), str(UNIT), sys.executable, str(wrapper)]
    proc = subprocess.Popen(
        [*command, "--metrics-port", str(port)], env=env, cwd=tmp_path, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        ready = notify_socket.receive_until("READY", "1")
        assert ready["STATUS"] == "serving 1 tenant(s)"
        assert _readyz(port)["tenants"] == 1
        for _ in range(2):
            notify_socket.receive_until("WATCHDOG", "1", seconds=5)

        # A new tenant file is served on SIGHUP, not at the next refresh (60 minutes).
        write_tenant(tenants, "late", CUSTOMER)
        proc.send_signal(signal.SIGHUP)
        reloading = notify_socket.receive_until("RELOADING", "1", seconds=10)
        assert int(reloading["MONOTONIC_USEC"]) > 0
        reloaded = notify_socket.receive_until("READY", "1", seconds=10)
        assert reloaded["STATUS"] == "serving 2 tenant(s)"
        assert proc.poll() is None
        assert _readyz(port)["tenants"] == 2

        proc.send_signal(signal.SIGTERM)
        stopping = notify_socket.receive_until("STOPPING", "1", seconds=10)
        assert stopping["STATUS"] == "SIGTERM received: finishing the unit in hand"
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    messages = [json.loads(line)["message"] for line in stderr.splitlines() if line.strip()]
    assert any(m.startswith("reload asked: re-reading the tenant files") for m in messages)


def test_watchdog_pings_only_while_the_loop_is_healthy(notify_socket: NotifySocket) -> None:
    healthy = threading.Event()
    healthy.set()
    stop = threading.Event()
    notifier = ServiceNotifier(notify_socket.address, watchdog_seconds=0.15)
    try:
        assert notifier.start_watchdog(healthy.is_set, stop)
        for _ in range(3):
            notify_socket.receive_until("WATCHDOG", "1", seconds=2)
        healthy.clear()  # the loop is stuck: systemd must stop hearing from it
        time.sleep(0.3)  # a ping already decided on may still arrive
        notify_socket.sock.settimeout(0.01)
        while True:
            try:
                notify_socket.sock.recv(4096)
            except TimeoutError:
                break
        notify_socket.sock.settimeout(0.5)  # ten ping intervals
        with pytest.raises(TimeoutError):
            notify_socket.sock.recv(4096)
        healthy.set()
        notify_socket.receive_until("WATCHDOG", "1", seconds=2)
    finally:
        stop.set()
        notifier.close()


def test_watchdog_meant_for_another_process_or_no_socket_sends_nothing() -> None:
    other = ServiceNotifier.from_environment(
        {"NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}
    )
    assert other.enabled and other.watchdog_seconds is None
    assert not other.start_watchdog(lambda: True, threading.Event())
    mine = ServiceNotifier.from_environment(
        {"NOTIFY_SOCKET": "@x", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid())}
    )
    assert mine.watchdog_seconds == 1.0
    silent = ServiceNotifier.from_environment({})
    assert not silent.enabled and not silent.ready("serving")


# ---------------------------------------------------------------------- the unit file


def _analyze(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    return subprocess.run(["systemd-analyze", *args], capture_output=True, text=True, timeout=60)


def test_unit_exposure_is_3_or_better() -> None:
    result = _analyze("security", "--offline=true", str(UNIT))
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match[1]) <= 3.0, result.stdout


PROBE = """\
import ctypes, json, os, socket
refused = {}
for name in ("AF_NETLINK", "AF_PACKET"):
    try:
        socket.socket(getattr(socket, name), socket.SOCK_RAW).close()
    except OSError as exc:
        refused[name] = exc.errno
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
if libc.mmap(None, 4096, 0x7, 0x22, -1, 0) == ctypes.c_void_p(-1).value:  # RWX, anonymous
    refused["mmap_wx"] = ctypes.get_errno()
for name, call in (("setuid", lambda: os.setuid(os.getuid())),
                   ("sched_setaffinity", lambda: os.sched_setaffinity(0, {0}))):
    try:
        call()
    except OSError as exc:
        refused[name] = exc.errno
print(json.dumps(refused))
"""

# What the daemon does besides the demo's pipeline: a build's worker processes
# (forkserver) and PostgreSQL through psycopg.
WORKERS_AND_POSTGRES = """\
import multiprocessing, os, sys
from concurrent.futures import ProcessPoolExecutor

if __name__ == "__main__":
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        assert list(pool.map(abs, [-1, -2])) == [1, 2]
    url = os.environ.get("CONNECTOR_TEST_POSTGRES_URL")
    if url:
        import psycopg
        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    print("ok", "postgres" if url else "sqlite only")
"""


def test_the_demo_pipeline_runs_under_the_units_sandbox(tmp_path: Path) -> None:
    """DuckDB, reportlab, lxml, psycopg, worker processes: none needs a refused call.

    The probe first shows the sandbox is really there (each refusal is the unit's).
    """
    sandbox = [sys.executable, str(SANDBOX), str(UNIT)]

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*sandbox, *command], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )

    probe = run(sys.executable, "-c", PROBE)
    assert probe.returncode == 0, probe.stderr
    refused = json.loads(probe.stdout)
    assert refused == {
        "AF_NETLINK": errno.EAFNOSUPPORT,
        "AF_PACKET": errno.EAFNOSUPPORT,
        "mmap_wx": errno.EPERM,
        "setuid": errno.EPERM,  # @privileged
        "sched_setaffinity": errno.EPERM,  # @resources
    }

    demo = run(str(Path(sys.executable).with_name("connector")), "demo")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert len(list((tmp_path / "demo-output" / "statements").glob("*.pdf"))) == 3

    others = run(sys.executable, "-c", WORKERS_AND_POSTGRES)
    assert others.returncode == 0, others.stderr
