"""Approving several Drafts numbers them by period, then customer, whatever their order."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from connector.domain.periods import parse_period
from connector.pipeline.build.build import generate
from connector.pipeline.ingest.ingest import ingest
from connector.pipeline.review.approve import approve
from connector.storage import models as m
from tests.providers.cur_files import NOVEMBER, row, write_cur

OCTOBER, NOVEMBER_PERIOD = parse_period("2026-10"), parse_period("2026-11")
AFTER_CLOSE = dt.date(2026, 12, 8)  # both months closed (5 business days after month end)


@pytest.fixture
def two_months(runtime, tmp_path: Path) -> dict[tuple[str, str], str]:
    """Drafts of customers 1001 and 1002 for October and November, generated November
    first: statement id by (period, customer)."""
    folder = tmp_path / "cur"
    write_cur(folder / "cur-2026-10.csv", [
        row(line_item_id="a", account="111111111111", cost="100.0000000000"),
        row(line_item_id="b", account="333333333333", cost="10.0000000000"),
    ])  # fmt: skip
    write_cur(folder / "cur-2026-11.csv", [
        row(line_item_id="c", account="111111111111", cost="200.0000000000", **NOVEMBER),
        row(line_item_id="d", account="333333333333", cost="20.0000000000", **NOVEMBER),
    ])  # fmt: skip
    runtime.tenants["acme"].providers["aws"].settings["path"] = str(folder)
    ingest(runtime, "acme", "aws")
    ids = {}
    for period in (NOVEMBER_PERIOD, OCTOBER):
        for s in generate(runtime, "acme", "aws", period, today=AFTER_CLOSE).generated:
            ids[(period.key, s.customer_id)] = s.id
    assert len(ids) == 4
    return ids


def numbers(runtime) -> dict[tuple[str, str], str]:
    with runtime.db.transaction() as session:
        return {
            (f"{s.period_start:%Y-%m}", s.customer_id): s.number
            for s in session.scalars(select(m.Statement))
        }


EXPECTED = {
    ("2026-10", "1001"): "ACME-01001",
    ("2026-10", "1002"): "ACME-01002",
    ("2026-11", "1001"): "ACME-01003",
    ("2026-11", "1002"): "ACME-01004",
}


def test_approve_all_numbers_october_before_november_then_by_customer(runtime, two_months) -> None:
    """Regression: approving all numbered a customer's November before its October
    (the list was ordered by customer only, then however the database returned it)."""
    approved = approve(runtime, "acme", None, actor="t")

    assert numbers(runtime) == EXPECTED
    assert [s.number for s in approved] == sorted(EXPECTED.values())  # returned in that order


def test_approving_named_drafts_numbers_them_by_period_whatever_order_they_are_given(
    runtime, two_months
) -> None:
    reversed_ids = [two_months[key] for key in sorted(two_months, reverse=True)]

    approve(runtime, "acme", reversed_ids, actor="t")

    assert numbers(runtime) == EXPECTED


def test_a_draft_named_twice_is_approved_once(runtime, two_months) -> None:
    october_1001 = two_months[("2026-10", "1001")]

    (approved,) = approve(runtime, "acme", [october_1001, october_1001], actor="t")

    assert approved.number == "ACME-01001"
    with runtime.db.transaction() as session:
        assert len(session.scalars(select(m.OutboxEntry)).all()) == 1
