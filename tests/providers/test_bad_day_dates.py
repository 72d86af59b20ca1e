"""Dates on a bad day: a FOCUS CSV whose date-times carry a time zone offset.

FOCUS date-times are UTC (``2026-10-01T00:00:00Z``), but a re-export through a
spreadsheet or a local-time tool writes ``2026-09-30T19:00:00-05:00`` for the same
instant. Read as written, that is September 30: October's charges would land in a
billing period starting on September 30, and a file mixing both spellings would split
one month into two periods. The same instant is one date: its UTC date, as a Parquet
``TIMESTAMP WITH TIME ZONE`` column is already read.
"""

from __future__ import annotations

import datetime as dt

import pytest
from connector_aws import AwsCurProvider
from connector_azure import AzureCostProvider
from connector_focus import FocusProvider

from connector.contracts import BillingPeriod
from connector.plugin_kit import values
from tests.providers.azure_files import mca_row
from tests.providers.azure_files import write_csv as write_azure
from tests.providers.cur_files import row, write_cur
from tests.providers.fetching import FolderFetch
from tests.providers.focus_files import FOCUS_12, read_rows, write_csv

OCTOBER = BillingPeriod(dt.date(2026, 10, 1), dt.date(2026, 11, 1))
CENTRAL = {  # FOCUS_12's October date-times, written in UTC-5
    "BillingPeriodStart": "2026-09-30T19:00:00-05:00",
    "BillingPeriodEnd": "2026-10-31T19:00:00-05:00",
}


def focus_rows(first_only: bool) -> tuple[list[str], list[dict]]:
    header, rows = read_rows(FOCUS_12)
    changed = [dict(row, **CENTRAL) if (i == 0 or not first_only) else row
               for i, row in enumerate(rows)]  # fmt: skip
    return header, changed


@pytest.mark.parametrize("first_only", [False, True], ids=["every row", "one row"])
def test_focus_date_times_with_an_offset_are_read_as_their_utc_date(tmp_path, first_only):
    header, rows = focus_rows(first_only)
    write_csv(tmp_path / "a.csv", header, rows)
    (batch,) = FolderFetch(FocusProvider)(tmp_path)
    assert batch.period == OCTOBER
    expected = FolderFetch(FocusProvider).only_batch(write_csv(
        tmp_path / "z" / "a.csv", *read_rows(FOCUS_12)).parent)  # fmt: skip
    assert batch.charges == expected.charges


def test_an_mca_date_with_an_offset_is_its_utc_date(tmp_path):
    write_azure(tmp_path / "a.csv", [mca_row(date="2026-09-30T22:00:00-03:00")])
    (batch,) = FolderFetch(AzureCostProvider)(tmp_path)
    assert batch.period == OCTOBER
    assert batch.charges[0].charge_period_start == dt.date(2026, 10, 1)


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("2026-09-30T19:00:00-05:00", dt.date(2026, 10, 1)),
        ("2026-09-30T19:00:00-0500", dt.date(2026, 10, 1)),
        ("2026-10-01 03:30:00.25+05:30", dt.date(2026, 9, 30)),
        ("2026-10-01 00:00:00+00", dt.date(2026, 10, 1)),  # DuckDB's TIMESTAMPTZ text
        ("2026-10-01T00:00:00Z", dt.date(2026, 10, 1)),
        ("2026-10-01T23:00:00", dt.date(2026, 10, 1)),  # no offset: as written
        ("2026-10-01", dt.date(2026, 10, 1)),
        ("2026-09-30T25:00:00-05:00", None),
        ("2026-02-30T10:00:00+01:00", None),
    ],
)
def test_sql_and_python_agree_on_the_date_of_a_date_time(text, date):
    import duckdb

    with duckdb.connect(":memory:") as con:
        query = f"SELECT {values.sql_date('t')} FROM (SELECT ?::VARCHAR AS t)"
        (in_sql,) = con.execute(query, [text]).fetchone()
    assert (in_sql, values.parse_date(text)) == (date, date)


CUR_CENTRAL = {  # October's billing period, written in UTC-5
    "period_start": "2026-09-30T19:00:00-05:00",
    "period_end": "2026-10-31T19:00:00-05:00",
}


def test_a_cur_billing_period_not_starting_on_the_first_is_refused_naming_the_row(tmp_path):
    """CUR billing periods are calendar months in UTC; the reader takes the date as
    written, so an offset would make a period of September 30 .. October 31."""
    write_cur(tmp_path / "cur.csv", [row(line_item_id="a"), row(line_item_id="b", **CUR_CENTRAL)])
    message = FolderFetch(AwsCurProvider).refusal(tmp_path)
    assert message == (
        f"{tmp_path / 'cur.csv'}: line 3, column bill/BillingPeriodStartDate is "
        f"'2026-09-30T19:00:00-05:00'; it must be the first of a month (AWS bills calendar "
        f"months in UTC), like 2026-10-01T00:00:00Z"
    )


def test_a_cur_billing_period_ending_mid_month_is_refused(tmp_path):
    write_cur(tmp_path / "cur.csv", [row(period_end="2026-10-31T19:00:00-05:00")])
    message = FolderFetch(AwsCurProvider).refusal(tmp_path)
    assert message.startswith(
        f"{tmp_path / 'cur.csv'}: line 2, column bill/BillingPeriodEndDate is "
        f"'2026-10-31T19:00:00-05:00'; it must be the first of the month after the "
        f"period's start 2026-10-01 (AWS bills calendar months in UTC), like "
        f"2026-11-01T00:00:00Z"
    )
