"""`connector report`: every grouping in CSV and JSON, tied out to the stored statements."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from connector.cli import report as cli_report
from connector.cli.report import report
from connector.cli.support import State
from tests.core.conftest import build_october

BASE = ("--tenant", "acme", "--provider", "aws", "--as-of", "2026-11-20")


@pytest.fixture
def config(example_config: str) -> str:
    """The example tenant on SQLite, October ingested and generated."""
    build_october(example_config)
    return example_config


def run_report(config: str, *args: str) -> Result:
    return CliRunner().invoke(report, [*BASE, *args], obj=State(Path(config)))


def statement_lines(tmp_path: Path) -> dict[str, Decimal]:
    """Σ service and marketplace lines per customer, read from the database directly."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    sums: dict[str, Decimal] = defaultdict(Decimal)
    with engine.connect() as conn:
        for customer, amount in conn.execute(
            sa.text(
                "SELECT s.customer_id, l.amount FROM statement_lines l JOIN statements s "
                "ON s.id = l.statement_id WHERE l.kind IN ('service', 'marketplace')"
            )
        ):
            sums[customer] += Decimal(amount)
    engine.dispose()
    return dict(sums)


def money(rows: list[dict], column: str) -> Decimal:
    return sum((Decimal(r[column]) for r in rows), Decimal(0))


@pytest.mark.parametrize("by", ["customer", "account", "service", "usage-type"])
def test_csv_and_json_of_each_grouping_tie_out_to_the_statements(
    config: str, tmp_path: Path, by: str
) -> None:
    lines = statement_lines(tmp_path)
    billed_total = sum(lines.values(), Decimal(0))

    as_csv = run_report(config, "--range", "2026-10", "--by", by, "--format", "csv")
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))
    body = [r for r in rows if r["level"] == by]
    (total,) = [r for r in rows if r["level"] == "total"]
    assert len(body) + 1 == len(rows)
    assert Decimal(total["price_bill"]) == billed_total
    assert Decimal(total["billed_price_bill"]) == billed_total
    assert Decimal(total["change_price_bill"]) == 0
    assert money(body, "price_report") == Decimal(total["price_report"])
    assert money(body, "price") == Decimal(total["price"])
    assert Decimal(total["view_difference"]) == (
        Decimal(total["price_report"]) - Decimal(total["price_bill"])
    )
    assert {r["status"] for r in rows} == {"closed"}
    assert {r["customer"] for r in body} == set(lines)

    as_json = run_report(config, "--range", "2026-10", "--by", by, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    (totals,) = data["totals"]
    assert Decimal(totals["bill_view"]) == billed_total
    assert totals["report_view"] == total["price_report"]
    assert totals["difference"] == total["view_difference"]
    assert Decimal(totals["change"]["price_bill"]) == 0
    assert [r["price_report"] for r in data["rows"]] == [r["price_report"] for r in body]
    assert data["provisional"] is False and data["by"] == by
    assert data["periods"][0]["statements"] == 3 and data["periods"][0]["whole"] is True
    if by == "customer":
        for row in data["rows"]:
            assert Decimal(row["price_bill"]) == lines[row["customer"]]
            assert row["statement"].startswith("draft ")


def test_a_cent_between_the_views_is_visible_in_the_table(config: str) -> None:
    result = run_report(config, "--range", "last-month")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "USD: report view" in text and "bill view" in text and "difference" in text
    assert "as billed" in text and "change 0.00" in text
    assert "period 2026-10: closed (provider); 3 statement(s)" in text
    assert "555555555555" in text  # unassigned spend is noted


def test_output_file_and_month_to_date_from_the_clock(
    config: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no --range and no --as-of, month to date runs to the clock's today."""
    monkeypatch.setattr(cli_report, "clock", lambda: dt.date(2026, 10, 20))
    out = tmp_path / "reports" / "mtd.json"
    result = CliRunner().invoke(
        report,
        ["--tenant", "acme", "--provider", "aws", "--format", "json", "-o", str(out)],
        obj=State(Path(config)),
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["range"] == {"label": "month-to-date", "from": "2026-10-01", "to": "2026-10-20"}
    # October is only partly in the range: its statements are not compared
    assert data["periods"][0]["whole"] is False
    assert all(r["billed_price_bill"] is None for r in data["rows"])
    assert all(t["billed"] is None for t in data["totals"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--range", "yesterday"), "range 'yesterday' is not valid"),
        (("--customer", "9999"), "no customer 9999"),
    ],
)
def test_bad_requests_exit_5_with_the_reason(config: str, args: tuple, message: str) -> None:
    result = run_report(config, *args)
    assert result.exit_code == 5
    assert message in " ".join(result.output.split())
