"""Invoice currencies converted with the period's rate, and upfront purchases billed
as they appear ("AWS RI purchase: immediately")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from connector.config.errors import ConfigError
from connector.config.rates import load_rates
from connector.config.settings import DaemonSettings
from connector.contracts import BillingPeriod, CanonicalCharge, ChargeBatch, ChargeCategory
from connector.domain.periods import parse_period
from connector.pipeline.build.build import BuildError, generate
from connector.pipeline.build.documents import statement_document
from connector.pipeline.close.close import signal_close
from connector.pipeline.ingest.ingest import store_batch
from connector.pipeline.review.approve import approve
from connector.runtime.runtime import open_runtime
from connector.runtime.tenants import sync_tenant

OCTOBER = parse_period("2026-10")
MID_OCTOBER = dt.date(2026, 10, 10)
AFTER_CLOSE = dt.date(2026, 11, 6)
ACCOUNT = "111111111111"

TENANT = """\
tenant: globex
profile: {{name: Globex Cloud Reseller}}
invoice_options:
  aws_ri_purchase: {policy}
generation: {{apply_credits: true, include_tax: true}}
providers:
  aws: {{plugin: aws, settings: {{path: .}}}}
erp: {{sink: csv}}
exchange_rates: rates.csv
tax_rates:
  - {{name: VAT, rate: "0.20"}}
support_plans:
  - id: basic
    tiers: [{{percent: 10}}]
pricebooks:
  - id: aws-10
    provider: aws
    versions:
      - effective: 2026-01-01
        rules: [{{adjust: markup, percent: 10}}]
customers:
  - id: "2001"
    name: Kessler Logistik GmbH
    invoice_currency: {currency}
    pricebooks: {{aws: aws-10}}
    accounts: {{aws: ["{account}"]}}
    tax: VAT
    support_plan: {support}
"""


EUR_RATES = "period,from,to,rate\n2026-10,USD,EUR,0.9215\n"


def make_runtime(tmp_path: Path, db_url: str, *, policy="end_of_month", currency="EUR",
                 support="null", rates=EUR_RATES):  # fmt: skip
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    (tenants / "globex.yaml").write_text(
        TENANT.format(policy=policy, currency=currency, support=support, account=ACCOUNT)
    )
    (tenants / "rates.csv").write_text(rates)
    return open_runtime(
        DaemonSettings(database_url=db_url, tenants_dir=tenants, output_dir=tmp_path / "out")
    )


def charge(service: str, cost: str, category=ChargeCategory.USAGE, frequency="Usage-Based",
           item="Usage", day=1) -> CanonicalCharge:  # fmt: skip
    return CanonicalCharge(
        billing_account_id="999999999999", sub_account_id=ACCOUNT, charge_category=category,
        service_name=service, service_category=service, sku=f"{service}-sku",
        billed_cost=Decimal(cost), list_cost=Decimal(cost), billing_currency="USD",
        charge_period_start=dt.date(2026, 10, day), charge_period_end=dt.date(2026, 10, day + 1),
        line_item_type=item, charge_frequency=frequency,
    )  # fmt: skip


def upfront(cost: str, day: int) -> CanonicalCharge:
    return charge("Amazon Elastic Compute Cloud", cost, ChargeCategory.PURCHASE, "One-Time",
                  "Fee", day)  # fmt: skip


def store(runtime, version: str, *charges: CanonicalCharge) -> None:
    batch = ChargeBatch(BillingPeriod(OCTOBER.start, OCTOBER.end), f"test:{version}", version,
                        list(charges))  # fmt: skip
    with runtime.db.transaction() as session:
        sync_tenant(session, runtime.tenant("globex"))
        store_batch(session, "globex", "aws", batch)


@pytest.fixture
def eur(tmp_path: Path, db_url: str):
    runtime = make_runtime(tmp_path, db_url)
    yield runtime
    runtime.db.dispose()


def test_usd_charges_are_converted_to_eur_with_the_period_rate_and_recorded(eur) -> None:
    """Rate 0.9215 USD->EUR, markup 10%, VAT 20%:
    Compute 100.00 USD = 92.15 EUR, priced 101.365 -> 101.37;
    Storage 33.33 USD = 30.713595 EUR, priced 33.7849545 -> 33.78;
    subtotal 135.15 (= the rounded exact sum 135.1499545); VAT 27.03; total 162.18."""
    store(eur, "v1", charge("Compute", "100.00"), charge("Storage", "33.33"))
    signal_close(eur, "globex", "aws", OCTOBER)
    (statement,) = generate(eur, "globex", "aws", OCTOBER, today=AFTER_CLOSE).generated
    amounts = {line.description: line.amount for line in statement.lines}
    assert amounts["Compute"] == Decimal("101.37")
    assert amounts["Storage"] == Decimal("33.78")
    assert statement.currency == "EUR" and statement.subtotal == Decimal("135.15")
    assert statement.tax == Decimal("27.03") and statement.total == Decimal("162.18")
    assert (statement.billing_currency, statement.exchange_rate) == ("USD", Decimal("0.9215"))
    document = statement_document(eur.tenant("globex"), statement)
    assert document.exchange_rate == Decimal("0.9215") and document.billing_currency == "USD"
    assert (document.tax_name, document.tax_rate) == ("VAT", Decimal("0.20"))


def test_a_missing_rate_names_the_file_and_the_line_to_add(tmp_path, db_url) -> None:
    runtime = make_runtime(tmp_path, db_url, rates="period,from,to,rate\n2026-09,USD,EUR,0.93\n")
    store(runtime, "v1", charge("Compute", "100.00"))
    signal_close(runtime, "globex", "aws", OCTOBER)
    with pytest.raises(BuildError) as error:
        generate(runtime, "globex", "aws", OCTOBER, today=AFTER_CLOSE)
    runtime.db.dispose()
    message = str(error.value)
    assert "customer #2001 is invoiced in EUR and its aws charges are in USD" in message
    assert "rates.csv has no rate for 2026-10 from USD to EUR" in message
    assert "add a line `2026-10,USD,EUR,<rate>`" in message


def test_the_same_currency_needs_no_rate_and_records_rate_1(tmp_path, db_url) -> None:
    runtime = make_runtime(tmp_path, db_url, currency="USD", rates="period,from,to,rate\n")
    store(runtime, "v1", charge("Compute", "100.00"))
    signal_close(runtime, "globex", "aws", OCTOBER)
    (statement,) = generate(runtime, "globex", "aws", OCTOBER, today=AFTER_CLOSE).generated
    runtime.db.dispose()
    assert statement.total == Decimal("132.00")  # 110.00 + 20% VAT
    assert (statement.billing_currency, statement.exchange_rate) == ("USD", Decimal(1))


def test_every_bad_line_of_a_rates_file_is_reported_with_its_line(tmp_path) -> None:
    path = tmp_path / "rates.csv"
    path.write_text(
        "period,from,to,rate\n2026-13,USD,EUR,0.9\n2026-10,usd,EUR,0.9\n2026-10,USD,EUR,-1\n"
        "2026-10,USD,GBP,0.79\n2026-10,USD,GBP,0.80\n"
    )
    with pytest.raises(ConfigError) as error:
        load_rates(path)
    lines = str(error.value).splitlines()
    assert lines == [
        f"{path}:2: period '2026-13' is not YYYY-MM (e.g. 2026-10)",
        f"{path}:3: from 'usd' is not an ISO 4217 code like USD",
        f"{path}:4: rate '-1' is not a positive decimal number like 0.9215",
        f"{path}:6: a second rate for 2026-10 USD GBP (first on line 5); keep one",
    ]


@pytest.fixture
def immediately(tmp_path: Path, db_url: str):
    runtime = make_runtime(tmp_path, db_url, policy="immediately", currency="USD",
                           support="basic", rates="period,from,to,rate\n")  # fmt: skip
    yield runtime
    runtime.db.dispose()


def test_an_upfront_purchase_gets_its_own_statement_before_the_period_closes(immediately):
    """Mid-October, before the close: the 1,200.00 upfront fee, marked up 10% = 1,320.00,
    VAT 264.00, total 1,584.00; no support fee (monthly, on the usage statement).
    The usage statement must still wait for the close."""
    store(immediately, "v1", charge("Compute", "50.00"), upfront("1200.00", day=5))
    (purchase,) = generate(immediately, "globex", "aws", OCTOBER, today=MID_OCTOBER,
                           kind="purchase").generated  # fmt: skip
    assert (purchase.kind, purchase.part) == ("purchase", 1)
    assert [(line.kind, line.amount) for line in purchase.lines] == [
        ("service", Decimal("1320.00")),
        ("tax", Decimal("264.00")),
    ]
    assert purchase.total == Decimal("1584.00")
    with pytest.raises(BuildError, match="is not closed"):
        generate(immediately, "globex", "aws", OCTOBER, today=MID_OCTOBER)


def test_at_close_usage_leaves_billed_purchases_out_and_new_ones_get_a_new_part(immediately):
    """Purchase part 1 (1,200.00) is approved mid-month. The month's final data repeats
    it and adds a 300.00 upfront fee. At close: part 2 bills only the 300.00 (330.00 +
    VAT 66.00 = 396.00); the usage statement bills Compute 50.00 -> 55.00, support 10%
    5.50, VAT 20% of 60.50 = 12.10, total 72.60, and neither purchase."""
    store(immediately, "v1", charge("Compute", "20.00"), upfront("1200.00", day=5))
    (first,) = generate(immediately, "globex", "aws", OCTOBER, today=MID_OCTOBER,
                        kind="purchase").generated  # fmt: skip
    approve(immediately, "globex", [first.id], "finance")
    store(immediately, "v2", charge("Compute", "50.00"), upfront("1200.00", day=5),
          upfront("300.00", day=20))  # fmt: skip
    signal_close(immediately, "globex", "aws", OCTOBER)
    built = generate(immediately, "globex", "aws", OCTOBER, today=AFTER_CLOSE).generated
    by_kind = {(s.kind, s.part): s for s in built}
    assert set(by_kind) == {("purchase", 2), ("usage", 0)}
    assert by_kind["purchase", 2].total == Decimal("396.00")
    usage = by_kind["usage", 0]
    assert [(line.kind, line.amount) for line in usage.lines] == [
        ("service", Decimal("55.00")),
        ("support", Decimal("5.50")),
        ("tax", Decimal("12.10")),
    ]
    assert usage.total == Decimal("72.60")
    # Reconciliation counts the usage and both purchase statements against the cost:
    # price 55.00 + 1,320.00 + 330.00 = 1,705.00; cost 50 + 1,200 + 300 = 1,550.00.
    from connector.pipeline.reconcile.reconcile import reconcile

    (row,) = reconcile(immediately, "globex", "aws", OCTOBER).customers
    assert (row.price, row.cost, row.margin) == (Decimal("1705.00"), Decimal("1550.00"),
                                                 Decimal("155.00"))  # fmt: skip


def test_end_of_month_policy_bills_purchases_with_the_period(tmp_path, db_url) -> None:
    """Default policy: the 1,200.00 fee and Compute 50.00 are one statement,
    1,375.00 + VAT 275.00 = 1,650.00; asking for purchase statements is refused."""
    runtime = make_runtime(tmp_path, db_url, currency="USD", rates="period,from,to,rate\n")
    store(runtime, "v1", charge("Compute", "50.00"), upfront("1200.00", day=5))
    with pytest.raises(BuildError, match="aws_ri_purchase: immediately"):
        generate(runtime, "globex", "aws", OCTOBER, today=MID_OCTOBER, kind="purchase")
    signal_close(runtime, "globex", "aws", OCTOBER)
    (statement,) = generate(runtime, "globex", "aws", OCTOBER, today=AFTER_CLOSE).generated
    runtime.db.dispose()
    assert statement.kind == "usage" and statement.total == Decimal("1650.00")


def test_a_closed_period_keeps_the_rate_it_closed_with(eur, tmp_path) -> None:
    """October closes with USD->EUR 0.9215. A corrected rates file (0.95) leaves the
    rebuilt Draft as it was; only an explicit reprice takes 0.95: 100.00 USD x 0.95 =
    95.00 EUR, +10 % = 104.50, VAT 20 % = 20.90."""
    store(eur, "v1", charge("Compute", "100.00"))
    signal_close(eur, "globex", "aws", OCTOBER)
    first = generate(eur, "globex", "aws", OCTOBER, today=AFTER_CLOSE).generated[0]
    assert first.exchange_rate == Decimal("0.9215")
    (tmp_path / "tenants/rates.csv").write_text("period,from,to,rate\n2026-10,USD,EUR,0.95\n")
    again = generate(eur, "globex", "aws", OCTOBER, today=AFTER_CLOSE).generated[0]
    assert (again.exchange_rate, again.total) == (first.exchange_rate, first.total)
    repriced = generate(eur, "globex", "aws", OCTOBER, today=AFTER_CLOSE, reprice=True)
    (statement,) = repriced.generated
    assert statement.exchange_rate == Decimal("0.95")
    assert (statement.subtotal, statement.tax) == (Decimal("104.50"), Decimal("20.90"))
    assert ["exchange_rates.USD/EUR", "0.9215", "0.95"] in [
        [c.setting, c.before, c.after] for c in repriced.repriced
    ]
