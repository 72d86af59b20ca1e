"""Issue 20, defect 4: long commands show progress on stderr, never on stdout.

On a terminal a rich bar per stage, with counts and rate; off a terminal a log line
every few seconds on ``connector.progress``, shown without ``-v`` so that an operator
who sends the output to a file still sees that the command is alive.
"""

from __future__ import annotations

import io
import json
import logging

import pytest
from rich.console import Console

import connector.progress as progress_module
from connector.progress import NO_PROGRESS, LogProgress, RichProgress, progress_for
from tests.core.conftest import run


def test_a_terminal_gets_the_rich_bar_and_anything_else_log_lines() -> None:
    terminal = Console(file=io.StringIO(), force_terminal=True)
    with progress_for(terminal) as shown:
        assert isinstance(shown, RichProgress)
    piped = Console(file=io.StringIO(), force_terminal=False)
    with progress_for(piped) as shown:
        assert isinstance(shown, LogProgress)
    with progress_for(terminal, enabled=False) as shown:
        assert shown is NO_PROGRESS
    with progress_for(piped, enabled=True) as shown:  # --progress asks for the bar
        assert isinstance(shown, RichProgress)


def test_the_bar_shows_each_stage_with_its_counts_and_rate() -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=120, color_system=None)
    with RichProgress(terminal) as bar:
        bar.stage("reading cur.csv.gz", total=38_300_000, unit="bytes")
        bar.advance(38_300_000)
        bar.stage("storing 2026-10 charges", total=128_574, unit="charges")
        for _ in range(12):
            bar.advance(10_000)
        bar.advance(8_574)
        tasks = bar.bar.tasks
    assert [(t.description, t.completed, t.total) for t in tasks] == [
        ("reading cur.csv.gz", 38_300_000, 38_300_000),
        ("storing 2026-10 charges", 128_574, 128_574),
    ]
    final = screen.getvalue()
    assert "38.3 MB/38.3 MB" in final
    assert "128,574/128,574 charges" in final
    assert "charges/s" in final


def test_a_stage_ended_early_shows_the_count_it_reached() -> None:
    terminal = Console(file=io.StringIO(), force_terminal=True, width=120)
    with RichProgress(terminal) as bar:
        bar.stage("reading cloud billing data", unit="batches")  # no total known
        bar.advance(2)
        bar.stage("storing 2026-10 charges", total=10, unit="charges")
        bar.advance(10)
        first = bar.bar.tasks[0]
    assert (first.completed, first.total, first.finished) == (2, 2, True)


@pytest.fixture
def every_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Progress lines at once (the interval is a few seconds otherwise)."""
    monkeypatch.setattr(progress_module, "LOG_EVERY", 0.0)


def test_off_a_terminal_ingest_and_generate_log_progress_without_v_and_stdout_stays_json(
    example_config: str, every_line: None, caplog: pytest.LogCaptureFixture
) -> None:
    ingested = run("--config", example_config, "ingest", "--tenant", "acme", "--provider",
                   "aws", "--json")  # fmt: skip
    assert ingested.exit_code == 0, ingested.output
    assert [r["status"] for r in json.loads(ingested.stdout)] == ["new"]
    generated = run("--config", example_config, "statements", "generate", "--tenant", "acme",
                    "--provider", "aws", "--period", "2026-10", "--json")  # fmt: skip
    assert generated.exit_code == 0, generated.output
    built = json.loads(generated.stdout)["generated"]
    lines = [r for r in caplog.records if r.name == "connector.progress"]
    assert all(r.levelno == logging.INFO for r in lines)
    messages = [r.getMessage() for r in lines]
    assert any(m.startswith("storing 2026-10 charges: 54 of 54 charges") for m in messages)
    assert any(
        m.startswith(f"building aws 2026-10 statements: {len(built)} of {len(built)}")
        for m in messages
    ), messages
    assert "storing" not in ingested.stdout and "building" not in generated.stdout
