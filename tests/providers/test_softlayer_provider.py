"""The softlayer provider: invoices read through the real SoftLayer client -> exact batches.

Every amount expected here is added up by hand from tests/fixtures/softlayer/*.json.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import responses

from connector.contracts import BillingPeriod, ChargeBatch, ChargeCategory
from tests.providers.softlayer_api import (
    INVOICES,
    ITEMS,
    OCT_2026,
    SEP_2026,
    anniversary_account,
    answering,
    fetch,
    item,
    provider,
    query,
    sample_account,
    serve,
)

USAGE, PURCHASE, TAX, CREDIT = (
    ChargeCategory.USAGE,
    ChargeCategory.PURCHASE,
    ChargeCategory.TAX,
    ChargeCategory.CREDIT,
)


def by_category(batch: ChargeBatch) -> dict[ChargeCategory, Decimal]:
    sums: dict[ChargeCategory, Decimal] = defaultdict(Decimal)
    for charge in batch.charges:
        sums[charge.charge_category] += charge.billed_cost
    return dict(sums)


def september(tmp_path: Path, **kwargs: object) -> ChargeBatch:
    (batch,) = fetch(tmp_path, anniversary_account(), SEP_2026, **kwargs)
    return batch


# ---------------------------------------------------------------------------
# The softlayer-python sample
# ---------------------------------------------------------------------------


def test_sample_invoices_give_one_final_period_with_children_counted_exactly(tmp_path):
    """Anniversary day 2 (getBillingInfo); both RECURRING invoices are dated 2019-03-04, so
    they close the period 2019-02-02 .. 2019-03-02. Each has the same top-level items:
    VLAN IPs (0 / 0) with child "Blah" (one-time 55.5, recurring 0.1, JSON numbers), and
    Reserved Capacity (recurring 18.03) with children 10.00 and 2.33.
    Per invoice: Usage 0.1 + 18.03 + 10.00 + 2.33 = 30.46; Purchase 55.5.
    Two invoices: Usage 60.92, Purchase 111.0; no tax amounts given, so no Tax charges.
    """
    batches = fetch(tmp_path, sample_account(), since="2019-02-02", today=dt.date(2019, 3, 10))
    assert [b.period for b in batches] == [BillingPeriod(dt.date(2019, 2, 2), dt.date(2019, 3, 2))]
    (batch,) = batches
    assert batch.final is True
    assert by_category(batch) == {USAGE: Decimal("60.92"), PURCHASE: Decimal("111.0")}
    assert {c.billing_account_id for c in batch.charges} == {"123"}
    assert {c.sub_account_id for c in batch.charges} == {"123"}
    assert {c.billing_currency for c in batch.charges} == {"USD"}
    assert {c.invoice_id for c in batch.charges} == {"33816665", "12345667"}
    child = [c for c in batch.charges if c.sku == "Blah" and c.invoice_id == "33816665"]
    assert {(c.charge_category, c.billed_cost, c.charge_frequency) for c in child} == {
        (PURCHASE, Decimal("55.5"), "One-Time"),
        (USAGE, Decimal("0.1"), "Recurring"),
    }
    assert {c.service_category for c in child} == {"Private (only) Secondary VLAN IP Addresses"}
    assert {c.service_name for c in child} == {"Fake Child Category"}


def test_an_item_with_only_zero_fees_stays_visible_as_a_zero_charge(tmp_path):
    (batch,) = fetch(tmp_path, sample_account(), since="2019-02-02", today=dt.date(2019, 3, 10))
    zero = [c for c in batch.charges if c.sku == "sov_sec_ip_addresses_priv"]
    assert [(c.invoice_id, c.billed_cost) for c in zero] == [
        ("12345667", Decimal(0)),
        ("33816665", Decimal(0)),
    ]


# ---------------------------------------------------------------------------
# Anniversary periods, finality, every invoice type
# ---------------------------------------------------------------------------


def test_all_periods_since_the_setting_each_with_its_own_invoices(tmp_path):
    """Anniversary day 15. RECURRING 4999 (2026-09-15) closes August, before `since`, so
    it is not read into September; 5001..5004 and RECURRING 5005 (2026-10-15) are
    September's; NEW 5006 (2026-10-20) is October's."""
    batches = fetch(tmp_path, anniversary_account(), since="2026-09-15")
    assert [b.period for b in batches] == [SEP_2026, OCT_2026]
    assert [sorted({c.invoice_id for c in b.charges}) for b in batches] == [
        ["5001", "5002", "5003", "5004", "5005"],
        ["5006"],
    ]


def test_a_period_is_final_once_its_recurring_invoice_exists(tmp_path):
    """September has RECURRING 5005; October has only NEW 5006 (its RECURRING comes on
    2026-11-15)."""
    batches = fetch(tmp_path, anniversary_account(), since="2026-09-15")
    assert [(b.period, b.final) for b in batches] == [(SEP_2026, True), (OCT_2026, False)]


def test_september_totals_by_charge_category(tmp_path):
    """By hand from anniversary_account.json, September (5001..5005):
    Usage    40.00 + 5.00 (5001) + 100.00 + 20.00 + 36.504166666667 + 0 (5005) = 201.504166666667
    Purchase 25.00 setup (5001) + 150.00 labor (5002) = 175.00
    Tax      3.30 + 2.06 + 0.41 (5001) + 12.38 (5002) + 8.25 + 1.65 (5005) - 1.65 (5003) = 26.40
    Credit   -20.00 (5003 CREDIT) - 7.50 (5004 REFUND) = -27.50
    """
    batch = september(tmp_path)
    assert by_category(batch) == {
        USAGE: Decimal("201.504166666667"),
        PURCHASE: Decimal("175.00"),
        TAX: Decimal("26.40"),
        CREDIT: Decimal("-27.50"),
    }
    assert batch.period == SEP_2026
    assert {(c.charge_period_start, c.charge_period_end) for c in batch.charges} == {
        (SEP_2026.start, SEP_2026.end)
    }


def test_october_has_only_the_new_invoice(tmp_path):
    (batch,) = fetch(tmp_path, anniversary_account(), OCT_2026)
    assert by_category(batch) == {USAGE: Decimal("12.00")}
    assert [(c.service_category, c.sku, c.charge_frequency) for c in batch.charges] == [
        ("Storage As A Service", "storage_as_a_service", "Recurring")
    ]


def test_credit_and_refund_invoices_are_negative_credits_and_a_refund_is_a_correction(tmp_path):
    """5003 CREDIT writes 20.00 (+1.65 tax) unsigned; 5004 REFUND writes -7.50 signed:
    both lower what is owed."""
    batch = september(tmp_path)
    credits = {
        (c.invoice_id, c.charge_category, c.charge_class, c.billed_cost)
        for c in batch.charges
        if c.invoice_id in ("5003", "5004")
    }
    assert credits == {
        ("5003", CREDIT, None, Decimal("-20.00")),
        ("5003", TAX, None, Decimal("-1.65")),
        ("5004", CREDIT, "Correction", Decimal("-7.50")),
    }


def test_children_fees_count_once_and_the_parent_total_field_is_not_added(tmp_path):
    """5005: parent 100.00 + RAM 20.00 + bandwidth 36.504166666667 + OS 0 = 156.504166666667
    (the parent's totalRecurringAmount, which already includes the children, is ignored)."""
    batch = september(tmp_path)
    usage = [c for c in batch.charges if c.invoice_id == "5005" and c.charge_category is USAGE]
    assert sum(c.billed_cost for c in usage) == Decimal("156.504166666667")
    assert {c.service_category for c in usage} == {"Computing Instance"}
    assert {(c.service_name, c.sku, c.billed_cost) for c in usage} == {
        ("Computing Instance", "guest_core", Decimal("100.00")),
        ("RAM", "ram", Decimal("20.00")),
        ("Public Bandwidth", "bandwidth", Decimal("36.504166666667")),
        ("Operating System", "os", Decimal("0")),
    }


def test_provider_taxes_are_separate_tax_charges_of_the_fee_they_tax(tmp_path):
    batch = september(tmp_path)
    taxes = {
        (c.invoice_id, c.sku, c.line_item_type, c.charge_frequency, c.billed_cost, c.quantity)
        for c in batch.charges
        if c.charge_category is TAX
    }
    assert taxes == {
        ("5001", "guest_core", "NEW recurringTaxAmount", "Recurring", Decimal("3.30"), 0),
        ("5001", "guest_core", "NEW setupTaxAmount", "One-Time", Decimal("2.06"), 0),
        ("5001", "ram", "NEW recurringTaxAmount", "Recurring", Decimal("0.41"), 0),
        ("5002", "professional_services", "ONE-TIME-CHARGE laborTaxAmount", "One-Time",
         Decimal("12.38"), 0),
        ("5003", "guest_core", "CREDIT recurringTaxAmount", "Recurring", Decimal("-1.65"), 0),
        ("5005", "guest_core", "RECURRING recurringTaxAmount", "Recurring", Decimal("8.25"), 0),
        ("5005", "ram", "RECURRING recurringTaxAmount", "Recurring", Decimal("1.65"), 0),
    }  # fmt: skip


def test_setup_and_labor_fees_are_one_time_purchases_and_hourly_items_usage_based(tmp_path):
    batch = september(tmp_path)
    kinds = {(c.sku, c.line_item_type): (c.charge_category, c.charge_frequency)
             for c in batch.charges if c.charge_category is not TAX}  # fmt: skip
    assert kinds[("guest_core", "NEW setupFee")] == (PURCHASE, "One-Time")
    assert kinds[("professional_services", "ONE-TIME-CHARGE laborFee")] == (PURCHASE, "One-Time")
    assert kinds[("guest_core", "NEW recurringFee")] == (USAGE, "Recurring")
    assert kinds[("bandwidth", "RECURRING recurringFee")] == (USAGE, "Usage-Based")


def test_same_item_keys_are_aggregated_with_exact_sums(tmp_path):
    """Two RAM children on 5005 (20.00 and 0.005): one charge of 20.005, quantity 2."""

    def second_ram(data):
        parent = item(data, 5005, 9006)
        parent["children"].append(
            {
                "id": 9011,
                "categoryCode": "ram",
                "category": {"name": "RAM"},
                "recurringFee": "0.005",
            }
        )

    (batch,) = fetch(tmp_path, anniversary_account(), SEP_2026, change=second_ram)
    ram = [c for c in batch.charges if c.invoice_id == "5005" and c.sku == "ram"
           and c.charge_category is USAGE]  # fmt: skip
    assert [(c.billed_cost, c.list_cost, c.quantity) for c in ram] == [
        (Decimal("20.005"), Decimal("20.005"), Decimal(2))
    ]


def test_json_numbers_beyond_float_precision_are_read_exactly(tmp_path):
    data = anniversary_account()
    del data[ITEMS]["5006"]
    raw = '[{"id": 9010, "categoryCode": "disk", "recurringFee": 0.10000000000000000001}]'
    with answering(ITEMS, {"body": raw, "content_type": "application/json"}, data, 5006):
        (batch,) = provider(tmp_path).fetch(OCT_2026)
    assert [c.billed_cost for c in batch.charges] == [Decimal("0.10000000000000000001")]


# ---------------------------------------------------------------------------
# The API calls, the anniversary day, the source hash
# ---------------------------------------------------------------------------


def test_a_calendar_month_reads_the_anniversary_period_starting_in_it(tmp_path):
    """--period 2026-09 is 2026-09-01..10-01; the period starting in it is 09-15..10-15,
    and the invoices asked for run to 11-15, where the RECURRING closing it may lie."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve(rsps, anniversary_account())
        batches = list(
            provider(tmp_path).fetch(BillingPeriod(dt.date(2026, 9, 1), dt.date(2026, 10, 1)))
        )
        invoice_calls = [c.request for c in rsps.calls if "getInvoices" in c.request.url]
    assert [b.period for b in batches] == [SEP_2026]
    (call,) = invoice_calls
    sent = query(call)
    # The client adds an orderBy on id itself, so that pages do not overlap.
    assert json.loads(sent["objectFilter"])["invoices"]["createDate"] == {
        "operation": "betweenDate",
        "options": [
            {"name": "startDate", "value": ["9/15/2026 0:0:0"]},
            {"name": "endDate", "value": ["11/15/2026 0:0:0"]},
        ],
    }
    assert sent["resultLimit"] == "0,100"
    assert "typeCode" in sent["objectMask"] and "createDate" in sent["objectMask"]


def test_the_billing_day_setting_overrides_the_accounts_anniversary_day(tmp_path):
    """With day 1, periods are calendar months. RECURRING 5005 (10-15) lies in October, so
    it closes September, with NEW 5001 (09-20); RECURRING 4999 (09-15) closes August, before
    `since`. 5002..5004 and 5006 are dated in October, which has no RECURRING yet."""
    batches = fetch(tmp_path, anniversary_account(), since="2026-09-01", billing_day=1)
    found = [
        (b.period.start, b.period.end, sorted({c.invoice_id for c in b.charges}), b.final)
        for b in batches
    ]
    assert found == [
        (dt.date(2026, 9, 1), dt.date(2026, 10, 1), ["5001", "5005"], True),
        (dt.date(2026, 10, 1), dt.date(2026, 11, 1), ["5002", "5003", "5004", "5006"], False),
    ]


def test_without_an_anniversary_day_the_latest_recurring_invoice_date_gives_it(tmp_path):
    def forget_day(data):
        del data["SoftLayer_Account::getBillingInfo"]["anniversaryDayOfMonth"]

    batches = fetch(tmp_path, anniversary_account(), change=forget_day, since="2026-09-15")
    assert [b.period for b in batches] == [SEP_2026, OCT_2026]


def test_the_same_data_twice_gives_the_same_source_hash(tmp_path):
    first = fetch(tmp_path, anniversary_account(), since="2026-09-15")
    second = fetch(tmp_path, anniversary_account(), since="2026-09-15")
    assert [b.source_hash for b in first] == [b.source_hash for b in second]
    assert first[0].source_hash != first[1].source_hash


def test_a_changed_item_changes_only_its_periods_source_hash(tmp_path):
    def change_ram(data):
        item(data, 5005, 9007)["recurringFee"] = "20.01"

    before = fetch(tmp_path, anniversary_account(), since="2026-09-15")
    after = fetch(tmp_path, anniversary_account(), since="2026-09-15", change=change_ram)
    assert before[0].source_hash != after[0].source_hash
    assert before[1].source_hash == after[1].source_hash


def test_an_amount_spelt_differently_is_the_same_content(tmp_path):
    def respell(data):
        item(data, 5001, 9001)["recurringFee"] = "40.0"

    before = fetch(tmp_path, anniversary_account(), SEP_2026)
    after = fetch(tmp_path, anniversary_account(), SEP_2026, change=respell)
    assert before[0].source_hash == after[0].source_hash


def test_a_new_invoice_in_the_period_changes_its_source_hash(tmp_path):
    def add_invoice(data):
        data[INVOICES].append(
            {"id": 5007, "createDate": "2026-10-25T09:00:00-05:00", "typeCode": "NEW"}
        )
        data[ITEMS]["5007"] = []

    before = fetch(tmp_path, anniversary_account(), OCT_2026)
    after = fetch(tmp_path, anniversary_account(), OCT_2026, change=add_invoice)
    assert before[0].source_hash != after[0].source_hash
    assert after[0].source == "SoftLayer account 424242 invoices 5006, 5007"


def test_items_are_read_page_by_page(tmp_path):
    """150 items of 0.01 on invoice 5006, served 100 per page: Usage 150 x 0.01 = 1.50."""
    data = anniversary_account()
    del data[ITEMS]["5006"]
    many = [{"id": 20000 + n, "categoryCode": "disk", "recurringFee": "0.01"} for n in range(150)]

    def page(request):
        offset, limit = (int(part) for part in query(request)["resultLimit"].split(","))
        body = json.dumps(many[offset : offset + limit])
        return 200, {"softlayer-total-items": str(len(many))}, body

    with answering(ITEMS, {"callback": page}, data, 5006) as rsps:
        (batch,) = provider(tmp_path).fetch(OCT_2026)
        pages = [c for c in rsps.calls if "/5006/" in c.request.url]
    assert len(pages) == 2
    assert [(c.sku, c.billed_cost, c.quantity) for c in batch.charges] == [
        ("disk", Decimal("1.50"), Decimal(150))
    ]


def test_an_unknown_invoice_type_is_kept_as_an_adjustment(tmp_path):
    def manual(data):
        data[INVOICES][-1]["typeCode"] = "MANUAL-ADJUSTMENT"

    (batch,) = fetch(tmp_path, anniversary_account(), OCT_2026, change=manual)
    assert [(c.charge_category, c.billed_cost) for c in batch.charges] == [
        (ChargeCategory.ADJUSTMENT, Decimal("12.00"))
    ]
    assert batch.final is False
