"""A pricebook change dated after a closed period never alters that period."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

from connector.config.tenant import PricebookRule, PricebookVersion
from connector.domain.periods import parse_period
from connector.pipeline.build.build import generate
from connector.pipeline.ingest.ingest import ingest
from tests.pipeline.conftest import CUR
from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER
from tests.providers.cur_files import NOVEMBER, row, write_cur

NOVEMBER_PERIOD = parse_period("2026-11")
AFTER_NOVEMBER_CLOSE = dt.date(2026, 12, 7)
S3 = {"product": "AmazonS3", "product_name": "Amazon Simple Storage Service",
      "usage_type": "USE1-TimedStorage-ByteHrs"}  # fmt: skip


def rebuild(runtime, period=OCTOBER, today=AFTER_CLOSE, reprice=False):
    (statement,) = generate(runtime, "acme", "aws", period, customer_ids=["1001"],
                            today=today, reprice=reprice).generated  # fmt: skip
    return statement


def add_version(runtime, effective: dt.date, markup: int, s3_discount: int | None = None) -> None:
    """A new version of aws-standard: ``markup`` % on everything (and S3 discounted)."""
    book = runtime.tenants["acme"].pricebook("aws-standard")
    rules = [PricebookRule(adjust="markup", percent=Decimal(markup))]
    if s3_discount is not None:
        rules.append(
            PricebookRule(service="AmazonS3", adjust="discount", percent=Decimal(s3_discount))
        )
    book.versions.append(PricebookVersion(effective=effective, rules=rules))


def deliver_october_and_november(runtime, tmp_path: Path) -> None:
    """The demo October CUR, and a November CUR in which customer 1001's account
    111111111111 ran 200.00 of EC2 and 40.00 of S3."""
    folder = tmp_path / "cur"
    folder.mkdir()
    shutil.copy(CUR, folder / CUR.name)
    write_cur(folder / "cur-2026-11-00001.csv", [
        row(line_item_id="n1", account="111111111111", cost="200.0000000000", **NOVEMBER),
        row(line_item_id="n2", account="111111111111", cost="40.0000000000", **NOVEMBER, **S3),
    ])  # fmt: skip
    runtime.tenants["acme"].providers["aws"].settings["path"] = str(folder)
    assert sorted(r.period for r in ingest(runtime, "acme", "aws")) == ["2026-10", "2026-11"]


def test_a_change_after_close_applies_from_the_next_period(runtime) -> None:
    """October closed on 2026-11-06 with aws-standard@2026-01-01 (15% markup).
    A 50% markup dated 2026-11-10 (after the close) leaves October's regenerated draft
    identical; dated 2026-10-01 it changes it only when the operator reprices the
    closed period with today's file (the control)."""
    ingest(runtime, "acme", "aws")
    before = rebuild(runtime)
    add_version(runtime, dt.date(2026, 11, 10), 50)
    after = rebuild(runtime)
    assert after.total == before.total
    assert after.pricebook_version == before.pricebook_version == "aws-standard@2026-01-01"

    add_version(runtime, dt.date(2026, 10, 1), 50)
    assert rebuild(runtime).total == before.total  # October closed before it was added
    control = rebuild(runtime, reprice=True)
    assert control.pricebook_version == "aws-standard@2026-10-01"
    assert control.total > before.total


def test_a_version_effective_from_november_prices_november_not_october(
    runtime, tmp_path: Path
) -> None:
    """October is built with aws-standard@2026-01-01 (EC2 + 15 %, S3 - 5 %). After it
    closed, the reseller adds a version effective 2026-11-01 (the day after October
    ends): EC2 + 20 %, S3 - 10 %.

    October, regenerated: the same total and version as before.
    November (customer 1001, EC2 200.00 and S3 40.00), with the new version:
      EC2  200.00 x 1.20 = 240.00
      S3    40.00 x 0.90 =  36.00
      subtotal 276.00; tax 8.25 % x 276.00 = 22.77; total 298.77.
    (With the old version it would have been 230.00 + 38.00 = 268.00 + 22.11 = 290.11.)
    """
    deliver_october_and_november(runtime, tmp_path)
    october = rebuild(runtime)
    assert october.pricebook_version == "aws-standard@2026-01-01"

    add_version(runtime, dt.date(2026, 11, 1), 20, s3_discount=10)

    october_again = rebuild(runtime)
    assert october_again.pricebook_version == "aws-standard@2026-01-01"
    assert october_again.total == october.total
    assert [(x.description, x.amount) for x in october_again.lines] == [
        (x.description, x.amount) for x in october.lines
    ]
    november = rebuild(runtime, NOVEMBER_PERIOD, AFTER_NOVEMBER_CLOSE)
    assert november.pricebook_version == "aws-standard@2026-11-01"
    assert [(x.description, x.amount) for x in november.lines] == [
        ("Amazon Elastic Compute Cloud", Decimal("240.00")),
        ("Amazon Simple Storage Service", Decimal("36.00")),
        ("US Sales Tax (8.25%)", Decimal("22.77")),
    ]
    assert november.subtotal == Decimal("276.00") and november.tax == Decimal("22.77")
    assert november.total == Decimal("298.77")


def test_a_version_effective_mid_november_waits_for_december(runtime, tmp_path: Path) -> None:
    """A version effective 2026-11-10 is not in force on November's first day, so
    November keeps aws-standard@2026-01-01 (it applies from December on):
      EC2  200.00 x 1.15 = 230.00
      S3    40.00 x 0.95 =  38.00
      subtotal 268.00; tax 8.25 % x 268.00 = 22.11; total 290.11."""
    deliver_october_and_november(runtime, tmp_path)
    add_version(runtime, dt.date(2026, 11, 10), 20, s3_discount=10)

    november = rebuild(runtime, NOVEMBER_PERIOD, AFTER_NOVEMBER_CLOSE)

    assert november.pricebook_version == "aws-standard@2026-01-01"
    assert [x.amount for x in november.lines] == [
        Decimal("230.00"),
        Decimal("38.00"),
        Decimal("22.11"),
    ]
    assert november.total == Decimal("290.11")
