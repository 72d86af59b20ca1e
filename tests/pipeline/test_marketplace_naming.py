"""A marketplace is named for its own cloud, and the tenant says how its products are priced.

Issue 25, defect 1: a third-party product on an Azure CSP invoice was labelled "AWS
Marketplace: Contoso Backup Pro" on the statement and in the Xero import, and passed
through at cost. Seed 003: "Marketplace fees are specific to AWS".

The Partner Center invoice G000000123 (October 2026) of customer Fabrikam (tenant
c0a8a0e1-...) carries two products: Microsoft 365 E3 (publisher Microsoft Corporation)
36.00, and Contoso Backup Pro (publisher Contoso Ltd: an Azure Marketplace product)
50.00. The pricebook marks every product up 10 %; sales tax 5 %.

  default (azure: the pricebook prices marketplace products like any product)
    Microsoft 365 E3                          36.00 x 1.10 = 39.60
    Azure Marketplace: Contoso Backup Pro     50.00 x 1.10 = 55.00
    tax 5 % x (39.60 + 55.00) = 4.73; total 39.60 + 55.00 + 4.73 = 99.33
  providers.azure-csp.marketplace_pricing: at_cost (a pass-through marketplace fee)
    Microsoft 365 E3                                          39.60
    Azure Marketplace: Contoso Backup Pro (at cost, untaxed)  50.00
    tax 5 % x 39.60 = 1.98; total 39.60 + 50.00 + 1.98 = 91.58
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from connector.config.settings import DaemonSettings
from connector.pipeline.build.build import generate
from connector.pipeline.close.close import signal_close
from connector.pipeline.ingest.ingest import ingest
from connector.pipeline.publish.publish import push
from connector.pipeline.review.approve import approve
from connector.runtime.periods import resolve_period
from connector.runtime.runtime import open_runtime
from tests.pipeline.test_build_with_credits import deliver_october
from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER
from tests.providers.csp_files import CUSTOMER_A, csp_row, write_csv

TENANT = "contoso-partners"
PROVIDER = "azure-csp"
TENANT_YAML = """\
tenant: {tenant}
profile: {{name: Contoso Partners}}
invoice_options:
  invoice_number_format: "CSP-{{number:04d}}"
  add_rounding_adjustments: true
providers:
  {provider}:
    settings: {{path: {csp}}}
{pricing}pricebooks:
  - id: csp-standard
    provider: {provider}
    versions:
      - effective: 2026-01-01
        rules: [{{adjust: markup, percent: 10}}]
tax_rates: [{{name: Sales Tax, rate: "0.05"}}]
erp:
  sink: csv
  settings: {{template: xero, output_dir: {erp}}}
  mappings: {{account_code: "200", tax_type: Tax on Sales}}
customers:
  - id: "C1"
    name: Fabrikam Ltd
    invoice_currency: USD
    pricebooks: {{{provider}: csp-standard}}
    accounts: {{{provider}: ["{account}"]}}
    tax: Sales Tax
    erp: {{contact_name: Fabrikam Ltd}}
"""
BACKUP = csp_row(
    ProductId="DZH318Z0BXWC",
    SkuId="0001",
    AvailabilityId="DZH318Z0C1JB",
    ProductName="Contoso Backup Pro",
    SkuName="Contoso Backup Pro Standard",
    PublisherName="Contoso Ltd",
    PublisherId="31234567",
    UnitPrice="50.00",
    EffectiveUnitPrice="50.00",
    Subtotal="50.00",
    Total="50.00",
)


def azure_runtime(db_url: str, tmp_path: Path, pricing: str | None = None):
    """The tenant above on ``db_url``, October's invoice ingested and closed."""
    csp = tmp_path / "csp"
    write_csv(csp / "G000000123_billed_recon.csv", [csp_row(), BACKUP])
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    line = f"    marketplace_pricing: {pricing}\n" if pricing else ""
    text = TENANT_YAML.format(tenant=TENANT, provider=PROVIDER, csp=csp, erp=tmp_path / "erp",
                              account=CUSTOMER_A, pricing=line)  # fmt: skip
    (tenants / f"{TENANT}.yaml").write_text(text)
    runtime = open_runtime(
        DaemonSettings(database_url=db_url, tenants_dir=tenants, output_dir=tmp_path / "out")
    )
    ingest(runtime, TENANT, PROVIDER)
    period = resolve_period(runtime, TENANT, PROVIDER, "2026-10")
    signal_close(runtime, TENANT, PROVIDER, period)
    return runtime, period


def lines_of(statement) -> list[tuple[str, str, Decimal]]:
    return [(line.kind, line.description, line.amount) for line in statement.lines]


def xero_rows(tmp_path: Path) -> list[dict[str, str]]:
    (path,) = (tmp_path / "erp").rglob("*.csv")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def test_an_azure_marketplace_product_is_named_for_azure_and_priced_by_the_pricebook(
    db_url: str, tmp_path: Path
) -> None:
    runtime, period = azure_runtime(db_url, tmp_path)
    try:
        (statement,) = generate(runtime, TENANT, PROVIDER, period, today=AFTER_CLOSE).generated
        assert lines_of(statement) == [
            ("service", "Microsoft 365 E3", Decimal("39.60")),
            ("service", "Azure Marketplace: Contoso Backup Pro", Decimal("55.00")),
            ("tax", "Sales Tax (5%)", Decimal("4.73")),
        ]
        assert statement.total == Decimal("99.33")
        # "include marketplace fees" concerns fees passed through at cost: a product the
        # pricebook prices stays on the statement without it.
        (without,) = generate(runtime, TENANT, PROVIDER, period, today=AFTER_CLOSE,
                              overrides={"include_marketplace_fees": False}).generated  # fmt: skip
        assert lines_of(without) == lines_of(statement)

        approve(runtime, TENANT, None, "test")
        push(runtime, TENANT)
        rows = {row["*Description"]: row for row in xero_rows(tmp_path)}
        assert set(rows) == {"Microsoft 365 E3", "Azure Marketplace: Contoso Backup Pro"}
        backup = rows["Azure Marketplace: Contoso Backup Pro"]
        assert Decimal(backup["*UnitAmount"]) == Decimal("55.00")
        assert backup["*TaxType"] == "Tax on Sales"  # taxed like any product
        assert Decimal(backup["Total"]) == Decimal("99.33")
        assert not any("AWS" in text for text in rows)
    finally:
        runtime.db.dispose()


def test_the_tenant_can_pass_azure_marketplace_products_through_at_cost(
    db_url: str, tmp_path: Path
) -> None:
    runtime, period = azure_runtime(db_url, tmp_path, pricing="at_cost")
    try:
        (statement,) = generate(runtime, TENANT, PROVIDER, period, today=AFTER_CLOSE).generated
        assert lines_of(statement) == [
            ("service", "Microsoft 365 E3", Decimal("39.60")),
            ("marketplace", "Azure Marketplace: Contoso Backup Pro", Decimal("50.00")),
            ("tax", "Sales Tax (5%)", Decimal("1.98")),
        ]
        assert statement.total == Decimal("91.58")
        (without,) = generate(runtime, TENANT, PROVIDER, period, today=AFTER_CLOSE,
                              overrides={"include_marketplace_fees": False}).generated  # fmt: skip
        assert [d for _, d, _ in lines_of(without)] == ["Microsoft 365 E3", "Sales Tax (5%)"]
        assert without.total == Decimal("41.58")  # 39.60 + 1.98

        generate(runtime, TENANT, PROVIDER, period, today=AFTER_CLOSE)
        approve(runtime, TENANT, None, "test")
        push(runtime, TENANT)
        rows = {row["*Description"]: row for row in xero_rows(tmp_path)}
        backup = rows["Azure Marketplace: Contoso Backup Pro"]
        assert Decimal(backup["*UnitAmount"]) == Decimal("50.00")
        assert Decimal(backup["Total"]) == Decimal("91.58")
    finally:
        runtime.db.dispose()


@pytest.mark.parametrize("include", [True, False])
def test_aws_marketplace_is_unchanged(runtime, tmp_path: Path, include: bool) -> None:
    """AWS: customer 1003 (tax exempt, +15 %) ran EC2 100.00, S3 200.00 (-5 %) and
    Datadog Pro from AWS Marketplace 12.45, named by the aws plugin and passed through
    at cost as before:
      EC2 100.00 x 1.15 = 115.00; S3 200.00 x 0.95 = 190.00; AWS Marketplace 12.45
      total 317.45, or 305.00 without "include marketplace fees"."""
    aws = runtime.plugins.providers.get("aws")  # the plugin names its marketplace
    assert (aws.marketplace_name, aws.marketplace_pricing) == ("AWS Marketplace", "at_cost")
    deliver_october(runtime, tmp_path, "444444444444", "100.0000000000")
    (statement,) = generate(runtime, "acme", "aws", OCTOBER, customer_ids=["1003"],
                            today=AFTER_CLOSE,
                            overrides={"include_marketplace_fees": include}).generated  # fmt: skip
    expected = [
        ("service", "Amazon Elastic Compute Cloud", Decimal("115.00")),
        ("service", "Amazon Simple Storage Service", Decimal("190.00")),
    ]
    if include:
        expected.append(("marketplace", "AWS Marketplace: Datadog Pro", Decimal("12.45")))
    assert lines_of(statement) == expected
    assert statement.total == (Decimal("317.45") if include else Decimal("305.00"))
