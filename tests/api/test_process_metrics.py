"""The daemon's /metrics carries prometheus_client's process and platform metrics."""

from __future__ import annotations

from prometheus_client import generate_latest

from connector.daemon.clock import SystemClock
from connector.daemon.metrics import Metrics


def test_metrics_show_the_process_memory_and_the_python_version() -> None:
    text = generate_latest(Metrics(SystemClock(), lambda: None).registry).decode()
    resident = [line for line in text.splitlines() if line.startswith("process_resident_memory")]
    assert resident and float(resident[0].split()[1]) > 10 * 1024 * 1024
    assert "process_cpu_seconds_total" in text and "process_open_fds" in text
    assert 'python_info{implementation="CPython"' in text
