"""Reconciliation when a customer is invoiced in another currency than AWS bills in.

The example tenant with customer 1003 invoiced in EUR at October's 0.9215 USD->EUR,
on a small CUR (markup 15 %, S3 not used, rounding adjustments on):
- 1001: EC2 100.00 USD -> price 115.00 USD, margin 15.00 USD.
- 1003: EC2 200.00 USD = 184.30 EUR -> 211.945; Datadog 10.00 USD = 9.215 EUR passed
  through; lines 211.95 + 9.22 - 0.01 adjustment = price 221.16 EUR (the rounded exact
  221.16); margin 221.16 - 184.30 - 9.215 = 27.645 EUR; marketplace margin 0.
Billed cost 100.00 + 210.00 = 310.00 USD, all of AWS's bill.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from connector.config.settings import DaemonSettings
from connector.domain.periods import parse_period
from connector.pipeline.build.build import generate
from connector.pipeline.ingest.ingest import ingest
from connector.pipeline.reconcile.reconcile import reconcile
from connector.pipeline.reconcile.report import report_rows, to_csv, to_dict
from connector.runtime.runtime import open_runtime
from connector.storage import models as m
from tests.conftest import REPO
from tests.providers.cur_files import row, write_cur

OCTOBER = parse_period("2026-10")
AFTER_CLOSE = dt.date(2026, 11, 6)
DATADOG = {"entity": "AWS Marketplace", "product": "prod-datadog",
           "product_name": "Datadog Pro", "legal": "Datadog, Inc."}  # fmt: skip


def eur_customer_tenant(folder: Path) -> Path:
    """The example tenants in ``folder``, acme's 1003 invoiced in EUR, on a small CUR."""
    shutil.copytree(REPO / "config/tenants", folder)
    cur = folder / "cur"
    write_cur(cur / "cur-2026-10.csv", [
        row(line_item_id="a", account="111111111111", cost="100.0000000000"),
        row(line_item_id="b", account="444444444444", cost="200.0000000000"),
        row(line_item_id="c", account="444444444444", cost="10.0000000000", **DATADOG),
    ])  # fmt: skip
    (folder / "rates.csv").write_text("period,from,to,rate\n2026-10,USD,EUR,0.9215\n")
    path = folder / "acme.yaml"
    text = path.read_text().replace("../../connector/demo_data/aws", str(cur))
    head, sep, tail = text.partition('  - id: "1003"')
    tail = tail.replace("invoice_currency: USD", "invoice_currency: EUR", 1)
    path.write_text(head + sep + tail + "\nexchange_rates: rates.csv\n")
    return folder


@pytest.fixture
def runtime(db_url: str, tmp_path: Path):
    tenants = eur_customer_tenant(tmp_path / "tenants")
    rt = open_runtime(
        DaemonSettings(database_url=db_url, tenants_dir=tenants, output_dir=tmp_path / "out")
    )
    ingest(rt, "acme", "aws")
    generate(rt, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    yield rt
    rt.db.dispose()


def totals(rows: list[dict]) -> dict[str, dict]:
    return {r["name"]: r for r in rows if r["row"] == "total"}


def test_a_eur_customers_margin_uses_the_rate_recorded_on_its_statement(runtime) -> None:
    result = reconcile(runtime, "acme", "aws", OCTOBER)

    customers = {c.customer_id: c for c in result.customers}
    usd, eur = customers["1001"], customers["1003"]
    assert (usd.cost_currency, usd.currency, usd.exchange_rate) == ("USD", "USD", 1)
    assert (usd.price, usd.margin) == (Decimal("115.00"), Decimal("15.00"))
    assert (eur.cost_currency, eur.currency) == ("USD", "EUR")
    assert eur.exchange_rate == Decimal("0.9215")
    assert (eur.cost, eur.marketplace_cost) == (Decimal("200.00"), Decimal("10.00"))
    assert eur.price == Decimal("221.16")
    assert eur.margin == Decimal("27.645")
    assert eur.marketplace_margin == 0
    assert eur.problems == ()
    assert result.rounding == {"EUR": Decimal("-0.01"), "USD": Decimal("0.00")}
    assert result.ties_out


def test_reconcile_totals_are_per_currency_never_a_sum_of_usd_and_eur(runtime) -> None:
    """Regression: the total row added 1003's 221.16 EUR to 1001's 115.00 USD."""
    result = reconcile(runtime, "acme", "aws", OCTOBER)

    rows = report_rows(result)

    by_currency = totals(rows)
    assert set(by_currency) == {"attributed (EUR)", "attributed (USD)"}
    usd, eur = by_currency["attributed (USD)"], by_currency["attributed (EUR)"]
    # Costs: all in AWS's USD, 1003's included; prices: each in its statement's currency.
    assert (usd["cost_currency"], usd["currency"]) == ("USD", "USD")
    assert usd["billed_cost"] == Decimal("310.00") == result.provider_total
    assert (usd["price"], usd["margin"]) == (Decimal("115.00"), Decimal("15.00"))
    assert (eur["cost_currency"], eur["currency"]) == (None, "EUR")
    assert eur["billed_cost"] is None and eur["cost"] is None
    assert (eur["price"], eur["margin"]) == (Decimal("221.16"), Decimal("27.645"))
    assert (eur["rounding"], usd["rounding"]) == (Decimal("-0.01"), Decimal("0.00"))

    with io.StringIO(to_csv(result).decode()) as handle:
        written = {r["name"]: r for r in csv.DictReader(handle) if r["row"] == "total"}
    assert Decimal(written["attributed (USD)"]["price"]) == Decimal("115.00")
    assert Decimal(written["attributed (EUR)"]["price"]) == Decimal("221.16")
    assert written["attributed (EUR)"]["billed_cost"] == ""

    document = to_dict(result)
    exact = {t["currency"]: t for t in document["totals"]}
    assert list(exact) == ["EUR", "USD"]
    assert Decimal(exact["EUR"]["price"]) == Decimal("221.16")
    assert Decimal(exact["EUR"]["margin"]) == Decimal("27.645")
    assert exact["EUR"]["billed_cost"] is None
    assert Decimal(exact["USD"]["price"]) == Decimal("115.00")
    assert Decimal(exact["USD"]["billed_cost"]) == Decimal("310.00")
    customers = {c["customer"]: c for c in document["customers"]}
    assert (customers["1003"]["currency"], customers["1003"]["cost_currency"]) == ("EUR", "USD")
    assert Decimal(customers["1003"]["exchange_rate"]) == Decimal("0.9215")
    assert Decimal(document["rounding"]["EUR"]["adjustment_lines"]) == Decimal("-0.01")


def test_without_a_recorded_rate_price_and_cost_stand_apart_with_no_margin(runtime) -> None:
    """A EUR statement that records no USD->EUR rate (built before rates were recorded):
    no margin is made up by subtracting USD from EUR; the problem says why."""
    with runtime.db.transaction() as session:
        statement = session.scalars(
            select(m.Statement).where(m.Statement.customer_id == "1003")
        ).one()
        statement.exchange_rate = None
        statement.billing_currency = None

    result = reconcile(runtime, "acme", "aws", OCTOBER)

    eur = next(c for c in result.customers if c.customer_id == "1003")
    assert eur.exchange_rate is None and eur.margin is None and eur.marketplace_margin is None
    assert (eur.price, eur.cost) == (Decimal("221.16"), Decimal("200.00"))
    (problem,) = eur.problems
    assert "is in EUR but the provider bills in USD" in problem
    assert "no USD->EUR exchange rate is recorded on it: no margin" in problem
    by_currency = totals(report_rows(result))
    assert by_currency["attributed (EUR)"]["price"] == Decimal("221.16")
    assert by_currency["attributed (EUR)"]["margin"] is None
    assert by_currency["attributed (USD)"]["margin"] == Decimal("15.00")
    assert by_currency["attributed (USD)"]["billed_cost"] == Decimal("310.00")
