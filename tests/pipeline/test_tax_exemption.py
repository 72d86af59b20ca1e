"""A tax-exempt customer is charged no tax, in the same run that taxes the others.

A small CUR, so every amount is worked out by hand: customers 1001 (account
111111111111) and 1003 (account 444444444444) each ran 100.00 of EC2. Both name the
tenant's "US Sales Tax" (8.25 %); 1003 has a resale certificate on file
(``tax_exempt: true``).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from connector.pipeline.build.build import generate
from connector.pipeline.ingest.ingest import ingest
from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER
from tests.providers.cur_files import row, write_cur


def build_both(runtime) -> dict:
    report = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    return {s.customer_id: s for s in report.generated}


def deliver_october(runtime, tmp_path: Path) -> None:
    write_cur(tmp_path / "cur/cur-2026-10.csv", [
        row(line_item_id="a", account="111111111111", cost="100.0000000000"),
        row(line_item_id="b", account="444444444444", cost="100.0000000000"),
    ])  # fmt: skip
    runtime.tenants["acme"].providers["aws"].settings["path"] = str(tmp_path / "cur")
    ingest(runtime, "acme", "aws")


def test_an_exempt_customer_gets_no_tax_while_the_others_are_taxed(runtime, tmp_path: Path) -> None:
    """Each statement prices EC2 at 100.00 x 1.15 = 115.00.
    1001: tax 8.25 % x 115.00 = 9.4875 -> 9.49; total 124.49.
    1003: the same tax table, but exempt: no tax line, tax 0.00, total 115.00."""
    deliver_october(runtime, tmp_path)
    exempt = runtime.tenants["acme"].customer("1003")
    exempt.tax = "US Sales Tax"  # it would be taxed, were it not exempt
    assert exempt.tax_exempt

    built = build_both(runtime)

    taxed = built["1001"]
    assert [(x.kind, x.description, x.amount) for x in taxed.lines] == [
        ("service", "Amazon Elastic Compute Cloud", Decimal("115.00")),
        ("tax", "US Sales Tax (8.25%)", Decimal("9.49")),
    ]
    assert (taxed.tax, taxed.total) == (Decimal("9.49"), Decimal("124.49"))
    assert taxed.tax_name == "US Sales Tax" and taxed.tax_rate == Decimal("0.0825")

    untaxed = built["1003"]
    assert [(x.kind, x.amount) for x in untaxed.lines] == [("service", Decimal("115.00"))]
    assert (untaxed.tax, untaxed.total) == (Decimal("0.00"), Decimal("115.00"))
    assert untaxed.tax_name is None and untaxed.tax_rate is None


def test_lifting_the_exemption_taxes_the_customer_like_the_others(runtime, tmp_path: Path) -> None:
    """The control: without ``tax_exempt``, 1003 pays 9.49 of tax like 1001 (124.49)."""
    deliver_october(runtime, tmp_path)
    customer = runtime.tenants["acme"].customer("1003")
    customer.tax, customer.tax_exempt = "US Sales Tax", False

    built = build_both(runtime)

    assert built["1003"].tax == built["1001"].tax == Decimal("9.49")
    assert built["1003"].total == built["1001"].total == Decimal("124.49")
