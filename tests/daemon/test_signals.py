"""SIGTERM: the daemon finishes the step in hand (or is cut off at the deadline), hands
its unit back, releases every lease and exits 0 in bounded time; a restart finishes."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.daemon.daemons import database_rows, settings_file
from tests.daemon.fakes import write_charges, write_tenant

WRAPPER = """\
import dataclasses, os, sys, time
sys.path.insert(0, {repo!r})
from tests.daemon import fakes
import connector.daemon.loop as loop
from connector.daemon.options import DaemonOptions

class SlowProvider(fakes.MonthFileProvider):
    def fetch(self, period=None):
        open(os.environ["FETCH_MARKER"], "w").close()
        time.sleep(float(os.environ["FETCH_SECONDS"]))
        yield from super().fetch(period)

# The test's plugins instead of the installed ones, and a short shutdown deadline.
host = fakes.plugin_host(fakes.erp_simulator(), SlowProvider)
loop.load_plugins = lambda: host
_from_settings = DaemonOptions.from_settings
DaemonOptions.from_settings = classmethod(lambda cls, s: dataclasses.replace(
    _from_settings(s), shutdown_seconds=float(os.environ["SHUTDOWN_SECONDS"])))
from connector.cli.daemon import run
run()
"""


def _setup(tmp_path: Path) -> tuple[Path, Path, str]:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    # A period long closed by the business-day rule under the real clock.
    month = (dt.date.today().replace(day=1) - dt.timedelta(days=70)).strftime("%Y-%m")
    write_tenant(tenants, "solo", [("C1", "Solo Co", "ap@solo.example", "111111111111")],
                 extra_settings=f"      period: '{month}'\n")  # fmt: skip
    write_charges(tenants, {"111111111111": "10.00"})
    db = tmp_path / "connector.db"
    settings = settings_file(tmp_path, tenants, database=db.name)
    wrapper = tmp_path / "daemon.py"
    wrapper.write_text(WRAPPER.format(repo=str(REPO)))
    return settings, wrapper, f"sqlite:///{db}"


def _env(settings: Path, marker: Path, fetch: float, shutdown: float) -> dict[str, str]:
    return {
        **os.environ,
        "CONNECTOR_CONFIG": str(settings),
        "FETCH_MARKER": str(marker),
        "FETCH_SECONDS": str(fetch),
        "SHUTDOWN_SECONDS": str(shutdown),
    }


@pytest.mark.parametrize(
    ("fetch_seconds", "shutdown_seconds", "step_finished"),
    [(1.5, 20, True), (120, 3, False)],
    ids=["step-finishes-then-hands-back", "stuck-step-cut-at-deadline"],
)
def test_sigterm_hands_back_the_unit_releases_leases_and_exits_0_in_time(
    tmp_path: Path, fetch_seconds: float, shutdown_seconds: float, step_finished: bool
) -> None:
    settings, wrapper, url = _setup(tmp_path)
    marker = tmp_path / "fetching"
    proc = subprocess.Popen(
        [sys.executable, str(wrapper), "--metrics-port", "0"],
        env=_env(settings, marker, fetch_seconds, shutdown_seconds),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "the daemon never started fetching"
            time.sleep(0.05)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=shutdown_seconds + 10)
    finally:
        if proc.poll() is None:
            proc.kill()
    took = time.monotonic() - sent
    assert proc.returncode == 0, stderr
    assert took < shutdown_seconds + 2
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert any("SIGTERM received" in line["message"] for line in lines)
    # Every lease is free: the billing unit is due again at once for whoever comes next.
    leases = database_rows(url, "SELECT name, holder FROM work_leases ORDER BY name")
    assert {holder for _, holder in leases} == {"idle"}
    batches = database_rows(url, "SELECT count(*) FROM charge_batches")[0][0]
    assert batches == (1 if step_finished else 0)

    # A restart does the rest, once.
    done = subprocess.run(
        [sys.executable, str(wrapper), "--once"],
        env=_env(settings, marker, 0, shutdown_seconds),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert database_rows(url, "SELECT count(*), max(revision) FROM statements")[0] == (1, 1)
    assert database_rows(url, "SELECT count(*) FROM charge_batches")[0][0] == 1
