"""A synthetic distributor for the month-end benchmark: provider files and a tenant file.

At scale 1: 5,000 customers, each with one account on each of three providers:

* ``aws``: a 5,000,000-row legacy CUR CSV.gz (:mod:`cur_synth`), usage account
  ``100000000000 + 7919 * i`` for customer ``i`` (what cur_synth writes for account i);
* ``azure``: a 1,000,000-row Azure EA actual-cost export CSV.gz (the EA v2 columns of
  ``/work/shared/samples/azure``; MM/DD/YYYY dates, no invoice id), subscription
  ``00000000-0000-4000-8000-<i>``;
* ``focus``: a 1,000,000-row FOCUS 1.0 export CSV.gz, sub-account ``focus-<i>``.

Scale N multiplies customers and rows. Everything is written by DuckDB from
``range(N)`` with hashed draws, so the same arguments give the same files in seconds.
The tenant has a markup pricebook per provider, a sales tax (every tenth customer
exempt), a tiered support plan (every third), a global discount (every fourth) and
credit grants (every fifth, see :func:`month_end_stages.setup`); its sink is the Xero
simulator, approval numbers are ``ME-0000001`` onwards.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cur_synth import write_synthetic_cur  # noqa: E402

PERIOD = "2026-10"
CUSTOMERS_AT_1 = 5_000
ROWS_AT_1 = {"aws": 5_000_000, "azure": 1_000_000, "focus": 1_000_000}
PROVIDERS = ("aws", "azure", "focus")
TENANT = "distributor"
NUMBER_FORMAT = "ME-{number:07d}"


@dataclass(frozen=True, slots=True)
class Size:
    """Customers and rows per provider at one scale."""

    scale: float

    @property
    def customers(self) -> int:
        return max(2, round(CUSTOMERS_AT_1 * self.scale))

    def rows(self, provider: str) -> int:
        return max(100, round(ROWS_AT_1[provider] * self.scale))

    @property
    def total_rows(self) -> int:
        return sum(self.rows(p) for p in PROVIDERS)


def aws_account(i: int) -> str:
    return str(100000000000 + i * 7919)


def azure_subscription(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def focus_account(i: int) -> str:
    return f"focus-{i:06d}"


_AZURE_METERS = (
    "['Virtual Machines', 'Storage', 'Bandwidth', 'Azure App Service', 'SQL Database', "
    "'Azure Monitor', 'Key Vault', 'Azure Kubernetes Service']"
)
_FOCUS_SERVICES = (
    "['Compute Engine', 'Cloud Storage', 'BigQuery', 'Cloud SQL', 'Networking', "
    "'Cloud Logging', 'Kubernetes Engine', 'Pub/Sub']"
)


def _draws(rows: int, customers: int, seed: int, salt: int) -> str:
    """The CTE ``d`` of ``rows`` hashed draws: customer ``c``, service ``s`` (0-7), a
    per-mille pick ``k``, a ``day`` of the month and a ``cost`` of 0..10 (10 places)."""
    h = [f"hash(i, {seed}, {salt + n})" for n in range(5)]
    return f"""
    WITH d AS (
        SELECT i, ({h[0]} % {customers})::BIGINT AS c, ({h[1]} % 8)::BIGINT AS s,
               ({h[2]} % 1000)::BIGINT AS k, ({h[3]} % 31)::BIGINT AS day,
               ({h[4]} % 100000000000)::DECIMAL(18, 0) / 10000000000 AS cost
        FROM range({rows}) t(i))"""


def azure_sql(rows: int, customers: int, seed: int) -> str:
    """EA actual-cost rows: usage mostly, some purchases, a marketplace row in 50."""
    return f"""{_draws(rows, customers, seed, 1)}
    SELECT '8611537' AS BillingAccountId, 'Distributor EA' AS BillingAccountName,
        '00000000-0000-4000-8000-' || lpad(c::VARCHAR, 12, '0') AS SubscriptionId,
        'Subscription ' || c AS SubscriptionName,
        strftime(DATE '2026-10-01' + day::INTEGER, '%m/%d/%Y') AS "Date",
        {_AZURE_METERS}[s + 1] || ' product' AS Product,
        'AAA-' || lpad(s::VARCHAR, 5, '0') AS PartNumber,
        {_AZURE_METERS}[s + 1] AS MeterCategory, 'Tier ' || (k % 3) AS MeterSubCategory,
        'Meter ' || (k % 5) AS MeterName, (k % 97 + 1)::VARCHAR AS Quantity,
        cost::DECIMAL(18, 10)::VARCHAR AS Cost, 'USD' AS BillingCurrency,
        CASE WHEN k < 20 THEN 'Marketplace' ELSE 'Azure' END AS PublisherType,
        CASE WHEN k < 20 THEN 'Contoso Security' ELSE 'Microsoft' END AS PublisherName,
        CASE WHEN k BETWEEN 20 AND 29 THEN 'Purchase' ELSE 'Usage' END AS ChargeType,
        (cost / (k % 97 + 1) * 1.1)::DECIMAL(18, 10)::VARCHAR AS PayGPrice,
        'OnDemand' AS PricingModel
    FROM d
    """


def focus_sql(rows: int, customers: int, seed: int) -> str:
    """FOCUS 1.0 rows of a whole, invoiced month: usage, some purchases and credits."""
    return f"""{_draws(rows, customers, seed, 11)}
    SELECT 'focus-billing' AS BillingAccountId,
        'focus-' || lpad(c::VARCHAR, 6, '0') AS SubAccountId,
        CASE WHEN k < 10 THEN 'Credit' WHEN k < 30 THEN 'Purchase' ELSE 'Usage' END
            AS ChargeCategory,
        CASE WHEN k < 30 THEN 'One-Time' ELSE 'Usage-Based' END AS ChargeFrequency,
        {_FOCUS_SERVICES}[s + 1] AS ServiceName, 'Compute' AS ServiceCategory,
        'SKU-' || s || '-' || (k % 4) AS SkuId,
        (CASE WHEN k < 10 THEN -cost ELSE cost END)::DECIMAL(18, 10)::VARCHAR AS BilledCost,
        (CASE WHEN k < 10 THEN -cost ELSE cost * 1.2 END)::DECIMAL(18, 10)::VARCHAR AS ListCost,
        'USD' AS BillingCurrency,
        strftime(TIMESTAMP '2026-10-01' + to_days(day::INTEGER), '%Y-%m-%dT%H:%M:%SZ')
            AS ChargePeriodStart,
        strftime(TIMESTAMP '2026-10-01' + to_days(day::INTEGER + 1), '%Y-%m-%dT%H:%M:%SZ')
            AS ChargePeriodEnd,
        '2026-10-01T00:00:00Z' AS BillingPeriodStart, '2026-11-01T00:00:00Z' AS BillingPeriodEnd,
        (k % 50 + 1)::VARCHAR AS PricingQuantity,
        'Example Cloud' AS ProviderName, 'Example Cloud' AS PublisherName,
        'Example Cloud' AS InvoiceIssuerName
    FROM d
    """


def _copy(sql: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"threads": "2", "memory_limit": "1GB"})
    try:
        target = str(path).replace("'", "''")
        con.execute(f"COPY ({sql}) TO '{target}' (FORMAT csv, HEADER true, COMPRESSION gzip)")
    finally:
        con.close()


def write_provider_files(data: Path, size: Size, seed: int = 20261001) -> dict[str, Path]:
    """Each provider's export in its own folder under ``data`` (skipped when present)."""
    files = {p: data / p / f"{p}-{PERIOD}.csv.gz" for p in PROVIDERS}
    if not files["aws"].exists():
        write_synthetic_cur(files["aws"], size.rows("aws"), size.customers, PERIOD, seed)
    if not files["azure"].exists():
        _copy(azure_sql(size.rows("azure"), size.customers, seed), files["azure"])
    if not files["focus"].exists():
        _copy(focus_sql(size.rows("focus"), size.customers, seed), files["focus"])
    return files


def _customer(i: int) -> dict:
    """Customer ``i``: its account on each provider; every tenth tax-exempt, every
    third on the support plan, every fourth with a global discount."""
    found = {
        "id": f"C{i:06d}",
        "name": f"Customer {i} Ltd",
        "invoice_currency": "USD",
        "pricebooks": {p: f"{p}-standard" for p in PROVIDERS},
        "accounts": {
            "aws": [aws_account(i)],
            "azure": [azure_subscription(i)],
            "focus": [focus_account(i)],
        },
        "tax": "Sales Tax",
    }
    found.update({"tax_exempt": True} if i % 10 == 9 else {})
    found.update({"support_plan": "business"} if i % 3 == 0 else {})
    found.update({"global_discount": "2.5"} if i % 4 == 1 else {})
    return found


def tenant_yaml(
    size: Size,
    data: Path,
    secret_file: Path,
    base_url: str,
    *,
    attach_pdf: bool,
    auto_approve: bool,
) -> str:
    """The distributor's tenant file; its sink is the Xero simulator at ``base_url``."""
    from tests.erp.xero_simulator import CLIENT_ID, TENANT_ID

    settings = {
        "aws": {"path": f"{data}/aws"},
        "azure": {"path": f"{data}/azure", "final": True},
        "focus": {"path": f"{data}/focus", "final": True},
    }
    tenant = {
        "tenant": TENANT,
        "profile": {"name": "Month End Distributor"},
        "invoice_options": {
            "next_invoice_number": 1,
            "invoice_number_format": NUMBER_FORMAT,
            "add_rounding_adjustments": True,
        },
        "generation": {
            "apply_credits": True,
            "include_tax": True,
            "include_marketplace_fees": True,
        },
        "daemon": {"auto_approve": auto_approve, "notify": False},
        "providers": {p: {"plugin": p, "settings": settings[p]} for p in PROVIDERS},
        "erp": {
            "sink": "xero",
            "settings": {
                "client_id": CLIENT_ID,
                "client_secret": {"secret_file": str(secret_file)},
                "tenant_id": TENANT_ID,
                "account_code": "200",
                "tax_type": "OUTPUT",
                "exempt_tax_type": "NONE",
                "base_url": base_url,
                "attach_pdf": attach_pdf,
            },
        },
        "tax_rates": [{"name": "Sales Tax", "rate": "0.0825"}],
        "support_plans": [
            {
                "id": "business",
                "minimum_fee": "100",
                "tiers": [{"up_to": 10000, "percent": 10}, {"percent": 5}],
            }
        ],
        "pricebooks": [
            {
                "id": f"{p}-standard",
                "provider": p,
                "versions": [
                    {
                        "effective": "2026-01-01",
                        "rules": [
                            {"adjust": "markup", "percent": 15},
                            {"charge_category": "Purchase", "adjust": "markup", "percent": 8},
                        ],
                    }
                ],
            }
            for p in PROVIDERS
        ],
        "customers": [_customer(i) for i in range(size.customers)],
    }
    return yaml.safe_dump(tenant, sort_keys=False)
