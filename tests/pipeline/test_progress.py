"""Issue 20, defect 4: long pipeline work reports how far it got.

Each pipeline function takes a Progress and counts what it does (bytes scanned, rows
made into charges, charges stored, statements built, approved, rendered, pushed) up to
the total it announced; off a terminal, progress is a log line at most every few
seconds (a fake clock here: no sleeping).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path

import pytest

from connector.contracts import BillingPeriod
from connector.daemon.logs import ContextFilter, log_context
from connector.pipeline.build.build import generate
from connector.pipeline.ingest import ingest as ingest_module
from connector.pipeline.ingest.ingest import ingest
from connector.pipeline.publish.export import export
from connector.pipeline.publish.publish import push
from connector.pipeline.report.range import DateRange
from connector.pipeline.report.report import build_report
from connector.pipeline.review.approve import approve
from connector.progress import LogProgress, polled
from tests.pipeline.conftest import CUR

OCTOBER = BillingPeriod(dt.date(2026, 10, 1), dt.date(2026, 11, 1))
# The bundled CUR file: 189 rows (190 lines with the header) summed to 54 charges.
CUR_ROWS, CUR_CHARGES = 189, 54


class Recorded:
    """A Progress that keeps every stage and each advance."""

    def __init__(self) -> None:
        self.stages: list[tuple[str, int | None, str, list[int]]] = []

    def stage(self, description: str, total: int | None = None, unit: str = "rows") -> None:
        self.stages.append((description, total, unit, []))

    def advance(self, n: int = 1) -> None:
        self.stages[-1][3].append(n)

    def named(self, prefix: str) -> tuple[int | None, str, int, int]:
        """``(total, unit, count reached, advances)`` of the one stage named ``prefix``..."""
        (found,) = [s for s in self.stages if s[0].startswith(prefix)]
        _, total, unit, steps = found
        return total, unit, sum(steps), len(steps)


def test_ingest_counts_the_bytes_read_the_rows_made_into_charges_and_the_charges_stored(
    runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "STORE_CHUNK", 10)  # several advances, as 128k would
    seen = Recorded()
    (result,) = ingest(runtime, "acme", "aws", progress=seen)
    size = CUR.stat().st_size
    assert seen.named(f"reading {CUR.name}")[:3] == (size, "bytes", size)
    assert seen.named(f"making charges of {CUR_ROWS} CUR rows")[:3] == (
        CUR_CHARGES, "charges", CUR_CHARGES,
    )  # fmt: skip
    total, unit, reached, advances = seen.named("storing 2026-10 charges")
    assert (total, unit, reached) == (CUR_CHARGES, "charges", CUR_CHARGES)
    assert advances == 6  # 10 at a time: 5 x 10 + 4
    assert result.rows == CUR_CHARGES


def test_build_approve_export_push_and_report_count_every_statement(
    runtime, tmp_path: Path
) -> None:
    ingest(runtime, "acme", "aws")
    seen = Recorded()
    report = generate(runtime, "acme", "aws", OCTOBER, progress=seen)
    built = len(report.generated)
    assert built > 0
    assert seen.named("building aws 2026-10 statements")[:3] == (built, "statements", built)

    approved = approve(runtime, "acme", None, actor="test", progress=seen)
    assert seen.named("approving Drafts")[:3] == (built, "statements", built)
    assert len(approved) == built

    written = export(runtime, "acme", [s.id for s in approved], ["csv"], tmp_path / "files",
                     progress=seen)  # fmt: skip
    assert seen.named("rendering statements")[:3] == (built, "statements", built)
    assert len(written) == built

    outcomes = push(runtime, "acme", seen)
    assert seen.named("pushing to csv")[:3] == (built, "statements", built)
    assert [o.state for o in outcomes] == ["delivered"] * built

    october = DateRange(OCTOBER.start, OCTOBER.end - dt.timedelta(days=1), "2026-10")
    report = build_report(runtime, "acme", "aws", october, by="usage-type", progress=seen)
    total, unit, groups, _ = seen.named("reading aws charges by usage type")
    assert (total, unit) == (None, "groups") and groups >= len(report.rows) > 0
    assert seen.named("reading statements as billed")[:3] == (built, "statements", built)


# -- off a terminal: log lines, throttled --------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "test.progress"]


@pytest.fixture
def lines(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="test.progress")
    return caplog


def test_log_lines_come_at_most_once_per_interval_with_counts_and_rate(lines) -> None:
    clock = FakeClock()
    progress = LogProgress(logging.getLogger("test.progress"), every=5.0, clock=clock)
    progress.stage("storing 2026-10 charges", total=800, unit="charges")
    for _ in range(80):  # 10 charges every quarter second: 20 s
        clock.now += 0.25
        progress.advance(10)
    progress.close()
    assert logged(lines) == [
        "storing 2026-10 charges: 200 of 800 charges (25%), 40 charges/s, 5 s",
        "storing 2026-10 charges: 400 of 800 charges (50%), 40 charges/s, 10 s",
        "storing 2026-10 charges: 600 of 800 charges (75%), 40 charges/s, 15 s",
        "storing 2026-10 charges: 800 of 800 charges (100%), 40 charges/s, 20 s",
        "storing 2026-10 charges: done, 800 charges in 20.0 s (40 charges/s)",
    ]


def test_quick_work_logs_nothing(lines) -> None:
    clock = FakeClock()
    progress = LogProgress(logging.getLogger("test.progress"), every=5.0, clock=clock)
    progress.stage("approving Drafts", total=3, unit="statements")
    for _ in range(3):
        clock.now += 1.0
        progress.advance()
    progress.close()
    assert logged(lines) == []


def test_short_stages_of_a_long_command_still_log_every_interval(lines) -> None:
    """Three 3-second stages: a line at 5 s although no stage lasted 5 s."""
    clock = FakeClock()
    progress = LogProgress(logging.getLogger("test.progress"), every=5.0, clock=clock)
    for name in ("reading cur.csv.gz", "making charges", "storing 2026-10 charges"):
        progress.stage(name, total=3, unit="steps")
        for _ in range(3):
            clock.now += 1.0
            progress.advance()
    progress.close()
    assert logged(lines) == [
        "making charges: 2 of 3 steps (66%), 1 steps/s, 2 s",
        "making charges: done, 3 steps in 3.0 s (1 steps/s)",
    ]


def test_a_stage_that_reports_no_counts_is_still_said_to_be_alive(lines) -> None:
    clock = FakeClock()
    progress = LogProgress(logging.getLogger("test.progress"), every=5.0, clock=clock)
    progress.stage("reading cloud billing data", unit="batches")
    clock.now = 4.0
    progress.tick()
    clock.now = 6.0
    progress.tick()
    assert logged(lines) == ["reading cloud billing data: working, 6 s"]


def test_lines_logged_from_the_polling_thread_carry_the_callers_log_ids() -> None:
    """The daemon's unit ids (log_context) reach lines logged by progress threads."""
    seen: list[logging.LogRecord] = []
    arrived = threading.Event()

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)
            arrived.set()

    logger = logging.getLogger("test.progress.thread")
    handler = Keep()
    handler.addFilter(ContextFilter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with log_context(tenant="acme", unit="unit/acme/1-billing/aws"):
            progress = LogProgress(logger, every=0.0)
            progress.stage("reading cur.csv.gz", total=100, unit="bytes")
            with polled(progress, lambda: 0.5, 100, every=0.01):
                assert arrived.wait(10), "the polling thread logged nothing"
    finally:
        logger.removeHandler(handler)
    first = seen[0]
    assert first.threadName == "progress-poll"
    assert (first.tenant, first.unit) == ("acme", "unit/acme/1-billing/aws")  # type: ignore[attr-defined]
    assert "50 bytes of 100 bytes (50%)" in first.getMessage()
