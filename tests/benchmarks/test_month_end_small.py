"""The month-end benchmark at a tiny scale, so it does not rot: every stage runs through
the daemon's code, prints its JSON line, and the numbering and both sinks are checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

STAGE_KEYS = {
    "stage",
    "scale",
    "seconds",
    "items",
    "per_second",
    "peak_rss_mib",
    "loadavg_start",
    "loadavg_end",
}
STAGES = ["ingest", "close", "build", "approve", "render", "push-csv", "push-xero", "verify"]


def _run(tmp_path: Path, *args: str) -> tuple[list[dict], str]:
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "month_end.py"),
            "--work",
            str(tmp_path),
            "--data",
            str(tmp_path / "data"),
            "--plot",
            str(tmp_path / "plot.png"),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines()], done.stderr


def test_a_tiny_month_end_runs_every_stage_and_issues_each_invoice_once(tmp_path: Path) -> None:
    lines, stderr = _run(tmp_path, "--curve", "0.002,0.004")

    stages = [line["stage"] for line in lines]
    assert stages == [*STAGES, "total", *STAGES, "total", "curve"]
    for line in lines:
        if line["stage"] in STAGES:
            assert set(line) >= STAGE_KEYS, line
    build = [line for line in lines if line["stage"] == "build"]
    assert [b["items"] for b in build] == [30, 60]  # 10 and 20 customers x 3 providers
    for floored in ("ingest", "render", "push-xero"):
        line = next(line for line in lines if line["stage"] == floored)
        assert line["floor_seconds"] > 0 and line["ratio_to_floor"] > 0
    totals = [line for line in lines if line["stage"] == "total"]
    assert all(t["duplicate_invoices"] == 0 and t["number_gaps"] == 0 for t in totals)
    verify = [line for line in lines if line["stage"] == "verify"]
    assert all(v["in_xero"] == v["in_csv_sink"] == v["numbered"] == v["statements"] for v in verify)
    curve = lines[-1]
    assert {"cost_growth", "rss_growth", "duplicate_invoices", "number_gaps"} <= set(curve)
    assert curve["duplicate_invoices"] == 0 and curve["number_gaps"] == 0
    assert curve["scales"] == [0.002, 0.004]
    assert (tmp_path / "plot.png").read_bytes().startswith(b"\x89PNG")
    assert "| 0.004 | 28,000 | 60 |" in stderr  # the scaling table: scale, rows, statements
