"""Realistic statement documents for renderer and sink tests.

Statements are built from full-precision detail rows the way DESIGN.md describes: each
line is a service category's prices summed at full precision and rounded; marketplace
products pass through at cost (a free trial stays as a $0.00 line); a rounding
adjustment makes the lines add up to the rounded full-precision total and is taxed
with the services, as the core's build does; a credit reduces the taxable base; tax is
a line of its own. So the invariants renderers and sinks promise can be checked here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from connector.contracts import (
    DetailRow,
    StatementDocument,
    StatementLine,
    sum_decimals,
)

# These statements are variations of the conformance kit's sample, with its parties
# (which renderer and sink tests import from here).
from connector.testing.samples import CUSTOMER, RESELLER, statement_from_lines  # noqa: F401

CENT = Decimal("0.01")
FULL = Decimal("1E-10")
MARKUP = Decimal("1.15")
TAX_RATE = Decimal("0.0825")

# (account, category, service, usage type, line item type, quantity, cost): AWS-like rows
# with the 10 decimal places the providers' files carry.
_USAGE = [
    (
        "111122223333",
        "Compute",
        "Amazon Elastic Compute Cloud",
        "USE1-BoxUsage:m5.large",
        "Usage",
        "744.0000000000",
        "71.4240000000",
    ),
    (
        "111122223333",
        "Compute",
        "Amazon Elastic Compute Cloud",
        "USE1-BoxUsage:t3.medium",
        "Usage",
        "512.3333333333",
        "21.3130666667",
    ),
    (
        "444455556666",
        "Compute",
        "AWS Lambda",
        "USE1-Lambda-GB-Second",
        "Usage",
        "1834567.2500000000",
        "30.5760541667",
    ),
    (
        "111122223333",
        "Storage",
        "Amazon Simple Storage Service",
        "USE1-TimedStorage-ByteHrs",
        "Usage",
        "1520.4477611940",
        "34.9702985075",
    ),
    (
        "444455556666",
        "Storage",
        "Amazon Elastic Compute Cloud",
        "USE1-EBS:VolumeUsage.gp3",
        "Usage",
        "400.0000000000",
        "32.0000000000",
    ),
    (
        "111122223333",
        "Networking",
        "AWS Data Transfer",
        "USE1-DataTransfer-Out-Bytes",
        "Usage",
        "233.1942000001",
        "20.9874780000",
    ),
    (
        "444455556666",
        "Database",
        "Amazon Relational Database Service",
        "USE1-InstanceUsage:db.t3.medium",
        "Usage",
        "744.0000000000",
        "50.5920000000",
    ),
    (
        "444455556666",
        "Database",
        "Amazon Relational Database Service",
        "USE1-RDS:GP2-Storage",
        "Usage",
        "100.0000000000",
        "11.5000000004",
    ),
]
_MARKETPLACE = [
    (
        "111122223333",
        "Datadog Pro (AWS Marketplace)",
        "Datadog Pro",
        "USE1-MP:hosts",
        "Usage",
        "12.0000000000",
        "184.0000000000",
    ),
    (
        "444455556666",
        "Alert Logic Threat Manager (AWS Marketplace Free Trial)",
        "Alert Logic Threat Manager",
        "USE1-MP:FreeTrial",
        "Usage",
        "0.8060000000",
        "0E-10",
    ),
]


def detail(account, category, service, sku, item_type, quantity, cost, *, marketplace=False):
    """One detail row; marketplace passes through at cost, the rest carries the markup."""
    cost = Decimal(cost)
    price = cost if marketplace else (cost * MARKUP).quantize(FULL, ROUND_HALF_UP)
    return DetailRow(
        account_id=account,
        service_category=category,
        service_name=service,
        sku=sku,
        line_item_type=item_type,
        is_marketplace=marketplace,
        quantity=Decimal(quantity),
        cost=cost,
        price=price,
        price_rounded=price.quantize(CENT, ROUND_HALF_UP),
    )


def default_details() -> list[DetailRow]:
    """Eight usage rows over two accounts and four categories, plus two marketplace rows."""
    return [detail(*row) for row in _USAGE] + [
        detail(*row, marketplace=True) for row in _MARKETPLACE
    ]


def _category_lines(details: Sequence[DetailRow], group_by_account: bool) -> list[StatementLine]:
    groups: dict[tuple[str | None, str], list[DetailRow]] = {}
    for row in details:
        key = (row.account_id if group_by_account else None, row.service_category)
        groups.setdefault(key, []).append(row)
    lines = []
    for (account, category), rows in groups.items():
        marketplace = rows[0].is_marketplace
        description = category if marketplace else f"AWS {category}"
        lines.append(
            StatementLine(
                position=0,
                kind="marketplace" if marketplace else "service",
                description=description,
                amount=sum_decimals(r.price for r in rows).quantize(CENT, ROUND_HALF_UP),
                cost=sum_decimals(r.cost for r in rows).quantize(CENT, ROUND_HALF_UP),
                service_category=category,
                account_id=account,
            )
        )
    # Services first, then marketplace pass-through: "organised by product type".
    return sorted(lines, key=lambda line: line.kind == "marketplace")


def build_statement(
    details: Sequence[DetailRow],
    *,
    credit: Decimal = Decimal("50.00"),
    tax_rate: Decimal = TAX_RATE,
    group_by_account: bool = False,
    **fields,
) -> StatementDocument:
    """A statement whose lines, rounding, credit, tax and totals follow from ``details``."""
    lines = _category_lines(details, group_by_account)
    full_total = sum_decimals(row.price for row in details).quantize(CENT, ROUND_HALF_UP)
    rounding = full_total - sum_decimals(line.amount for line in lines)
    if rounding:
        lines.append(StatementLine(0, "rounding", "Rounding adjustment", rounding))
    services = sum_decimals(line.amount for line in lines if line.kind == "service")
    applied = min(credit, services)
    if applied:
        lines.append(StatementLine(0, "credit", "Credit applied (promotional credit)", -applied))
    # Like the core's build: the rounding adjustment is part of the taxed base.
    tax = ((services + rounding - applied) * tax_rate).quantize(CENT, ROUND_HALF_UP)
    if tax:
        lines.append(StatementLine(0, "tax", f"Sales tax {tax_rate * 100:.2f}%", tax))
    lines = [dataclasses.replace(line, position=i) for i, line in enumerate(lines, start=1)]
    document = statement_from_lines(
        lines,
        statement_id="st-0001",
        tenant="northwind",
        details=list(details),
        # The kit's sample names its tax and billing currency; these do not.
        tax_name=None,
        tax_rate=None,
        billing_currency=None,
    )
    return dataclasses.replace(document, **fields)


def make_statement(**fields) -> StatementDocument:
    """The standard realistic statement (Open, numbered); ``fields`` override any field."""
    return build_statement(default_details(), **fields)


def make_draft(**fields) -> StatementDocument:
    """The standard statement before approval: Draft, no number yet."""
    return make_statement(**{"status": "Draft", "number": None, **fields})


def make_long_statement(line_count: int = 120, **fields) -> StatementDocument:
    """A statement of ``line_count`` account x category lines (enough for several pages)."""
    categories = ("Compute", "Storage", "Networking", "Database", "Analytics", "Security")
    details = []
    for i in range(line_count):
        account = f"{100000000000 + i // len(categories):012d}"
        category = categories[i % len(categories)]
        cost = Decimal(7 * i + 3) + Decimal(i * 37 % 1000) / Decimal(997)
        details.append(
            detail(
                account,
                category,
                f"Service {category}",
                f"SKU-{i:04d}",
                "Usage",
                "1.0000000000",
                str(cost.quantize(FULL)),
            )
        )
    return build_statement(details, group_by_account=True, **fields)


def write_logo(path: Path) -> Path:
    """A small PNG logo at ``path`` (Pillow comes with ReportLab)."""
    from PIL import Image

    Image.new("RGB", (240, 80), (20, 70, 140)).save(path, format="PNG")
    return path
