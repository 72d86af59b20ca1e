"""A pricebook change dated after a closed period never alters that period."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from connector.config.tenant import PricebookRule, PricebookVersion
from connector.pipeline.build import generate
from connector.pipeline.ingest import ingest
from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER


def rebuild(runtime):
    (statement,) = generate(runtime, "acme", "aws", OCTOBER, customer_ids=["1001"],
                            today=AFTER_CLOSE).generated  # fmt: skip
    return statement


def add_version(runtime, effective: dt.date, markup: int) -> None:
    book = runtime.tenants["acme"].pricebook("aws-standard")
    rule = PricebookRule(adjust="markup", percent=Decimal(markup))
    book.versions.append(PricebookVersion(effective=effective, rules=[rule]))


def test_a_change_after_close_applies_from_the_next_period(runtime) -> None:
    """October closed on 2026-11-06 with aws-standard@2026-01-01 (15% markup).
    A 50% markup dated 2026-11-10 (after the close) leaves October's regenerated draft
    identical; dated 2026-10-01 it would have changed it (the control)."""
    ingest(runtime, "acme", "aws")
    before = rebuild(runtime)
    add_version(runtime, dt.date(2026, 11, 10), 50)
    after = rebuild(runtime)
    assert after.total == before.total
    assert after.pricebook_version == before.pricebook_version == "aws-standard@2026-01-01"

    add_version(runtime, dt.date(2026, 10, 1), 50)
    control = rebuild(runtime)
    assert control.pricebook_version == "aws-standard@2026-10-01"
    assert control.total > before.total
