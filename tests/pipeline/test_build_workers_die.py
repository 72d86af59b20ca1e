"""A build killed outright (SIGKILL) takes its worker processes with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO

# The builder: a pool of build workers (as a statement build makes it), every worker
# busy for a moment so that each one starts, their pids printed; then it waits.
BUILDER = """
import sys, time
from connector.pipeline.build import parts as build_parts
from tests.pipeline.test_build_workers_die import worker_pid

pool = build_parts.worker_pool(sys.argv[1], 3)
pids = {f.result() for f in [pool.submit(worker_pid) for _ in range(12)]}
print(" ".join(map(str, sorted(pids))), flush=True)
time.sleep(600)
"""


def worker_pid() -> int:
    """Runs in a worker: keeps it busy long enough for its siblings to start too."""
    time.sleep(0.3)
    return os.getpid()


def _alive(pid: int) -> bool:
    # A zombie (dead, not yet reaped by whoever adopted it) counts as gone.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_workers_end_within_seconds_of_their_builder_being_killed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'connector.db'}"
    builder = subprocess.Popen(
        [sys.executable, "-c", BUILDER, url],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        line = builder.stdout.readline()
        workers = [int(pid) for pid in line.split()]
        assert len(workers) >= 2, line
        assert all(_alive(pid) for pid in workers)
    finally:
        builder.send_signal(signal.SIGKILL)
        builder.wait(timeout=10)
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:  # do not leave them behind for the rest of the run
        os.kill(pid, signal.SIGKILL)
    assert left == [], f"build workers {left} outlived their killed builder"
