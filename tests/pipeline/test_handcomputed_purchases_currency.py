"""Upfront purchases billed as they appear ("AWS RI purchase: immediately") for a
customer invoiced in another currency than AWS bills in, worked out by hand.

Tenant "globex" (tests/pipeline/test_currency_and_purchases.py): markup 10 %, VAT 20 %,
support 10 % (usage statements only), customer 2001 invoiced in EUR at October's
USD->EUR 0.9215.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from connector.pipeline.build.build import generate
from connector.pipeline.close.close import signal_close
from connector.pipeline.review.approve import approve
from tests.pipeline.test_currency_and_purchases import (
    AFTER_CLOSE,
    MID_OCTOBER,
    OCTOBER,
    charge,
    make_runtime,
    store,
    upfront,
)


@pytest.fixture
def eur_immediately(tmp_path: Path, db_url: str):
    runtime = make_runtime(tmp_path, db_url, policy="immediately", support="basic")
    yield runtime
    runtime.db.dispose()


def test_an_approved_purchase_is_not_billed_again_to_a_customer_in_another_currency(
    eur_immediately,
) -> None:
    """Mid-October: the 1,200.00 USD upfront fee = 1,105.80 EUR, + 10 % = 1,216.38, VAT
    243.276 -> 243.28, total 1,459.66 (part 1, approved).
    The final data repeats it and adds a 300.00 USD fee. At close, part 2 bills only
    the new one: 300.00 x 0.9215 = 276.45 EUR, + 10 % = 304.095 -> 304.10, VAT 20 % =
    60.819 -> 60.82, total 364.92. (Before the fix the approved fee was not recognised
    in EUR and billed again: part 2 was 1,520.48 + VAT 304.10 = 1,824.58.)"""
    runtime = eur_immediately
    store(runtime, "v1", charge("Compute", "20.00"), upfront("1200.00", day=5))
    (first,) = generate(runtime, "globex", "aws", OCTOBER, today=MID_OCTOBER,
                        kind="purchase").generated  # fmt: skip
    assert (first.currency, first.total) == ("EUR", Decimal("1459.66"))
    approve(runtime, "globex", [first.id], "finance")

    store(runtime, "v2", charge("Compute", "50.00"), upfront("1200.00", day=5),
          upfront("300.00", day=20))  # fmt: skip
    signal_close(runtime, "globex", "aws", OCTOBER)
    built = generate(runtime, "globex", "aws", OCTOBER, today=AFTER_CLOSE).generated
    by_kind = {(s.kind, s.part): s for s in built}
    assert set(by_kind) == {("purchase", 2), ("usage", 0)}
    second = by_kind["purchase", 2]
    assert [(line.kind, line.amount) for line in second.lines] == [
        ("service", Decimal("304.10")),
        ("tax", Decimal("60.82")),
    ]
    assert second.total == Decimal("364.92")


def test_a_purchase_build_after_approval_in_another_currency_finds_nothing_new(
    eur_immediately,
) -> None:
    """The same data again after part 1 was approved: nothing left to bill, no part 2."""
    runtime = eur_immediately
    store(runtime, "v1", charge("Compute", "20.00"), upfront("1200.00", day=5))
    (first,) = generate(runtime, "globex", "aws", OCTOBER, today=MID_OCTOBER,
                        kind="purchase").generated  # fmt: skip
    approve(runtime, "globex", [first.id], "finance")
    again = generate(runtime, "globex", "aws", OCTOBER, today=MID_OCTOBER, kind="purchase")
    assert list(again.generated) == []
