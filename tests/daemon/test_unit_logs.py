"""Issue 20, defect 4: the daemon logs each unit's start, progress and end, with what it
did (charges, statements) and how long it took."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from connector.daemon import units
from tests.daemon.daemons import approving_daemon
from tests.daemon.fakes import (
    write_charges,
    write_tenant,
)

BILLING = "unit/northwind/1-billing/cloud"


def test_each_unit_logs_its_start_progress_and_end_with_counts_and_duration(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(units, "LOG_EVERY", 0.0)  # every progress line, not one per 5 s
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    customers = [("C1", "Blue Harbor", "ap@bh.example", "111111111111"),
                 ("C2", "Summit", "ap@summit.example", "222222222222")]  # fmt: skip
    write_tenant(tenants, "northwind", customers)
    write_charges(tenants, {"111111111111": "10.00", "222222222222": "20.00"})
    daemon = approving_daemon(tmp_path, tenants, ["northwind"]).start()
    caplog.set_level(logging.INFO, logger="connector.daemon.units")
    try:
        report = daemon.run_once()
    finally:
        daemon.close()
    assert BILLING in report.done, report
    records = [r for r in caplog.records if r.name == "connector.daemon.units"]
    messages = [r.getMessage() for r in records]

    start = messages.index(f"{BILLING} started")
    (end,) = [i for i, m in enumerate(messages) if m.startswith(f"{BILLING} done in ")]
    assert re.fullmatch(
        rf"{BILLING} done in \d+\.\d s: 1 periods read, 1 periods changed, 2 charges stored, "
        r"2 statements built, 2 approved",
        messages[end],
    ), messages[end]
    done = records[end]
    assert done.counts == {  # type: ignore[attr-defined]
        "periods read": 1, "periods changed": 1, "charges stored": 2, "statements built": 2,
        "approved": 2,
    }  # fmt: skip
    assert 0 <= done.duration_seconds < 60  # type: ignore[attr-defined]
    between = messages[start + 1 : end]
    assert any(m.startswith("storing 2026-10 charges: 2 of 2 charges (100%)") for m in between)
    assert any(m.startswith("building cloud 2026-10 statements: 2 of 2") for m in between)

    outbox = next(m for m in messages if m.startswith("unit/northwind/2-outbox done in "))
    assert ": 2 statements pushed, 0 not delivered" in outbox
    payments = next(m for m in messages if m.startswith("unit/northwind/3-payments done in "))
    assert payments.endswith(": 0 statements paid, 0 past due")
