"""Provider credits and refunds reach customers only where the tenant says so, and
reconcile shows where every one went (DESIGN.md, "Credits"; issue 25).

October 2026 for the example tenant (pricebook +15 % on EC2; 1001 and 1002 taxed
8.25 %, 1003 exempt; no support plans, discounts or credit grants):

  111111111111 (1001)  EC2 200.00, and AWS's promotional credit -100.00 on it
  333333333333 (1002)  EC2 100.00, and a refund -10.00 of earlier EC2
  444444444444 (1003)  EC2  50.00
  provider total 350.00 - 100.00 - 10.00 = 240.00; Credit -110.00

none (the default): the credits are the reseller's
  1001  200.00 x 1.15 = 230.00; tax 8.25 % x 230.00 = 18.975 -> 18.98; total 248.98
  1002  100.00 x 1.15 = 115.00; tax 9.4875 -> 9.49;                    total 124.49
  1003   50.00 x 1.15 =  57.50; exempt;                               total  57.50
refunds: 1002's refund -10.00 goes to 1002, the promotional credit is kept
  1002  115.00 - 10.00 = 105.00; tax 8.25 % x 105.00 = 8.6625 -> 8.66; total 113.66
proportional: the refund so, and -100.00 shared 200 : 100 : 50 (cents 5714.29, 2857.14,
1428.57: floors 5714 + 2857 + 1428 = 9999, the cent left to 1003's largest remainder)
  1001  230.00 - 57.14 = 172.86; tax 14.26095 -> 14.26;           total 187.12
  1002  115.00 - 10.00 - 28.57 = 76.43; tax 6.305475 -> 6.31;     total  82.74
  1003   57.50 - 14.29 = 43.21; exempt;                           total  43.21
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from connector.config.loader import load_tenant, tenant_json_schema
from connector.domain.money import total
from connector.pipeline.build.build import generate
from connector.pipeline.close import period_config
from connector.pipeline.ingest.ingest import ingest
from connector.pipeline.reconcile.reconcile import reconcile
from connector.pipeline.reconcile.report import report_rows, to_dict
from connector.storage import models as m
from tests.conftest import REPO
from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER
from tests.providers.cur_files import row, write_cur

D = Decimal
EC2 = "Amazon Elastic Compute Cloud"
TOTALS = {
    "none": {"1001": D("248.98"), "1002": D("124.49"), "1003": D("57.50")},
    "refunds": {"1001": D("248.98"), "1002": D("113.66"), "1003": D("57.50")},
    "proportional": {"1001": D("187.12"), "1002": D("82.74"), "1003": D("43.21")},
}
# What each mode passes to each customer (the provider's billing currency).
PASSED = {
    "none": {"1001": D(0), "1002": D(0), "1003": D(0)},
    "refunds": {"1001": D(0), "1002": D("-10.00"), "1003": D(0)},
    "proportional": {"1001": D("-57.14"), "1002": D("-38.57"), "1003": D("-14.29")},
}
# What stays with the reseller: -110.00 minus what is passed.
KEPT = {"none": D("-110.00"), "refunds": D("-100.00"), "proportional": D("0")}


def deliver(runtime, tmp_path: Path) -> None:
    write_cur(tmp_path / "cur/cur-2026-10.csv", [
        row(line_item_id="a", account="111111111111", cost="200.0000000000"),
        row(line_item_id="b", account="111111111111", type="Credit", usage_type="",
            cost="-100.0000000000"),
        row(line_item_id="c", account="333333333333", cost="100.0000000000"),
        row(line_item_id="d", account="333333333333", type="Refund", cost="-10.0000000000"),
        row(line_item_id="e", account="444444444444", cost="50.0000000000"),
    ])  # fmt: skip
    runtime.tenants["acme"].providers["aws"].settings["path"] = str(tmp_path / "cur")
    ingest(runtime, "acme", "aws")


def lines(statement) -> list[tuple[str, str, Decimal]]:
    return [(x.kind, x.description, x.amount) for x in statement.lines]


@pytest.mark.parametrize("mode", ["none", "refunds", "proportional"])
def test_each_mode_on_the_statements_and_in_reconcile(runtime, tmp_path: Path, mode) -> None:
    runtime.tenants["acme"].providers["aws"].provider_credits = mode
    deliver(runtime, tmp_path)
    built = {s.customer_id: s for s in generate(runtime, "acme", "aws", OCTOBER,
                                                 today=AFTER_CLOSE).generated}  # fmt: skip
    assert {c: s.total for c, s in built.items()} == TOTALS[mode]
    for statement in built.values():
        assert total(x.amount for x in statement.lines) == statement.total

    if mode == "proportional":
        assert lines(built["1002"]) == [
            ("service", EC2, D("115.00")),
            ("service", f"{EC2} (refund)", D("-10.00")),
            ("service", "Provider credits", D("-28.57")),
            ("tax", "US Sales Tax (8.25%)", D("6.31")),
        ]
        assert lines(built["1003"]) == [
            ("service", EC2, D("57.50")),
            ("service", "Provider credits", D("-14.29")),  # the remainder cent
        ]
    elif mode == "refunds":
        assert (("service", f"{EC2} (refund)", D("-10.00"))) in lines(built["1002"])
    if mode != "proportional":
        assert not any("Provider credits" in d for s in built.values() for _, d, _ in lines(s))

    rec = reconcile(runtime, "acme", "aws", OCTOBER)
    assert rec.ties_out and rec.problems == ()
    assert rec.provider_total == D("240.00")
    assert rec.provider_credits == mode
    assert {c.customer_id: c.provider_credit for c in rec.customers} == PASSED[mode]
    assert rec.non_billable["Credit"] == KEPT[mode]
    assert rec.credits_passed + rec.non_billable["Credit"] == D("-110.00")
    # Passing credits on at cost leaves each customer's margin the markup: 15 % of EC2.
    assert {c.customer_id: c.margin for c in rec.customers} == {
        "1001": D("30.00"), "1002": D("15.00"), "1003": D("7.50"),
    }  # fmt: skip

    rows = report_rows(rec)
    provider = {r["id"]: r["billed_cost"] for r in rows if r["row"] == "provider"}
    assert provider["Credit"] == KEPT[mode]
    assert provider.get("Credit passed", D(0)) == total(PASSED[mode].values())
    (usd,) = [r for r in rows if r["row"] == "total"]
    assert usd["billed_cost"] == rec.provider_total  # the report's rows add up to the bill
    assert usd["provider_credit"] == total(PASSED[mode].values())
    dumped = to_dict(rec)
    assert dumped["provider_credits"]["setting"] == mode
    assert dumped["tie_out"]["ties_out"] is True


def test_a_statement_without_its_passed_credits_is_reported(runtime, tmp_path: Path) -> None:
    """Built with none, then reconciled as if the period's setting were refunds (its
    recorded configuration edited behind the build's back): 1002's statement carries no
    refund, and reconcile says so, while the figures still tie out."""
    deliver(runtime, tmp_path)
    generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    with runtime.db.transaction() as session:
        close = session.get(m.PeriodClose, ("acme", "aws", OCTOBER.start))
        providers = {"aws": {**close.config["providers"]["aws"], "provider_credits": "refunds"}}
        close.config = {**close.config, "providers": providers}
    rec = reconcile(runtime, "acme", "aws", OCTOBER)
    assert rec.ties_out
    (problem,) = rec.problems
    assert problem.startswith("customer 1002: draft ") and "carries 0.00 USD" in problem
    assert "passes -10.00 USD" in problem


def test_the_setting_is_frozen_when_the_period_closes(runtime, tmp_path: Path) -> None:
    """October closes with provider_credits none (its first build). Switching the tenant
    file to proportional afterwards changes nothing for October, in the build or in
    reconcile; only an explicit reprice applies it, and reports the change."""
    deliver(runtime, tmp_path)
    first = {s.customer_id: s.total for s in generate(runtime, "acme", "aws", OCTOBER,
                                                       today=AFTER_CLOSE).generated}  # fmt: skip
    assert first == TOTALS["none"]
    config = runtime.tenants["acme"]
    assert period_config.take(config, OCTOBER)["providers"]["aws"] == {
        "marketplace_pricing": "at_cost", "provider_credits": "none",
    }  # fmt: skip

    config.providers["aws"].provider_credits = "proportional"
    again = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    assert {s.customer_id: s.total for s in again.generated} == TOTALS["none"]
    assert reconcile(runtime, "acme", "aws", OCTOBER).provider_credits == "none"

    repriced = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE, reprice=True)
    assert {s.customer_id: s.total for s in repriced.generated} == TOTALS["proportional"]
    assert [(c.setting, c.before, c.after) for c in repriced.repriced] == [
        ("providers.aws.provider_credits", "none", "proportional")
    ]
    rec = reconcile(runtime, "acme", "aws", OCTOBER)
    assert rec.provider_credits == "proportional" and rec.ties_out and rec.problems == ()


def test_a_period_recorded_before_the_setting_existed_records_it_at_its_next_build(
    runtime, tmp_path: Path
) -> None:
    """A close recorded without providers' settings (an older version) takes today's at
    the next build and keeps them from then on."""
    deliver(runtime, tmp_path)
    generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    with runtime.db.transaction() as session:
        close = session.get(m.PeriodClose, ("acme", "aws", OCTOBER.start))
        close.config = {k: v for k, v in close.config.items() if k != "providers"}
    config = runtime.tenants["acme"]
    config.providers["aws"].provider_credits = "refunds"
    built = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE).generated
    assert {s.customer_id: s.total for s in built} == TOTALS["refunds"]
    config.providers["aws"].provider_credits = "proportional"
    built = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE).generated
    assert {s.customer_id: s.total for s in built} == TOTALS["refunds"]  # frozen now


def test_the_example_tenant_and_the_json_schema_document_both_settings() -> None:
    """Editors see the choices and what they mean; the example tenant sets both."""
    provider = tenant_json_schema()["$defs"]["ProviderConfig"]["properties"]
    assert provider["provider_credits"]["enum"] == ["none", "refunds", "proportional"]
    assert provider["provider_credits"]["default"] == "none"
    pricing = provider["marketplace_pricing"]
    assert {"enum": ["at_cost", "pricebook"], "type": "string"} in pricing["anyOf"]
    assert "proportion to their accounts' charges" in provider["provider_credits"]["description"]
    assert "aws: at_cost; the others: pricebook" in pricing["description"]
    example = load_tenant(REPO / "config/tenants/acme.yaml").providers["aws"]
    assert (example.marketplace_pricing, example.provider_credits) == ("at_cost", "none")
