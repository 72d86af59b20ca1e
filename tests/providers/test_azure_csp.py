"""The azure-csp provider: Partner Center reconciliation files -> exact, correctly mapped batches.

The fixture is invoice G000000123 (October 2026, USD) of partner 3b33e682-..., seven rows:

==  ========  ===============  ==========  =========  ======  ====================
#   customer  ChargeType       Subtotal    TaxTotal   other
==  ========  ===============  ==========  =========  ======  ====================
1   A         new              360.00      36.00              M365 E3 x10, Monthly
2   A         addQuantity       67.35       6.74              M365 E3 x2
3   A         removeQuantity   -28.80      -2.88              M365 E3 x1
4   A         new (metered)     58.75       5.88      PEC     0.096 x 720 h, rate 1
5   B         new              120.00       0.00              Contoso Networks SaaS
6   B         cancelImmediate   -4.00      -0.40              ordered 10/2, start 9/25
7   B         new (OneTime)    600.00      60.00              Reserved VM, 1 year
==  ========  ===============  ==========  =========  ======  ====================

Σ Subtotal = 360 + 67.35 - 28.80 + 58.75 + 120 - 4 + 600 = 1173.30
Σ TaxTotal = 36 + 6.74 - 2.88 + 5.88 + 0 - 0.40 + 60 = 105.34; Σ Total = 1278.64.
Row 4's cost before partner-earned credit is 0.096 x 720 x 1 = 69.12, so its credit is
58.75 - 69.12 = -10.37.
"""

from __future__ import annotations

import datetime as dt
import gzip
from decimal import Decimal
from pathlib import Path

import pytest
from connector_azure import AzureCspProvider

from connector.contracts import BillingPeriod, ChargeBatch, ChargeCategory, SourceDataError
from connector.testing import provider_test_class
from tests.providers.csp_files import (
    BILLED_CSV,
    BILLED_JSONL,
    CSP_HEADER,
    CUSTOMER_A,
    CUSTOMER_B,
    INVOICE_ROWS,
    copy,
    csp_row,
    gzip_copy,
    write_csv,
    write_jsonl,
)
from tests.providers.fetching import FolderFetch

OCTOBER = BillingPeriod(dt.date(2026, 10, 1), dt.date(2026, 11, 1))
PARTNER = "3b33e682-00c3-41ee-9dd2-a548adf56438"


fetch = FolderFetch(AzureCspProvider)
fetch_error = fetch.error


def total(batch: ChargeBatch, *categories: ChargeCategory) -> Decimal:
    return sum(
        (c.billed_cost for c in batch.charges if not categories or c.charge_category in categories),
        Decimal(0),
    )


def by_type(batch: ChargeBatch) -> dict[tuple[str, str, str], object]:
    return {(c.sub_account_id, c.line_item_type, c.service_name): c for c in batch.charges}


# ---------------------------------------------------------------------------
# The billed invoice
# ---------------------------------------------------------------------------


def test_billed_csv_totals_match_the_invoice(tmp_path):
    """Charges other than tax add up to Σ Subtotal 1173.30, tax to Σ TaxTotal 105.34."""
    copy(BILLED_CSV, tmp_path)
    [batch] = fetch(tmp_path)
    assert batch.period == OCTOBER
    assert batch.final is True  # every row carries InvoiceNumber G000000123
    assert total(batch) == Decimal("1278.64")
    assert total(batch, ChargeCategory.TAX) == Decimal("105.34")
    assert total(batch) - total(batch, ChargeCategory.TAX) == Decimal("1173.30")
    for charge in batch.charges:
        assert charge.billing_account_id == PARTNER
        assert charge.sub_account_id in {CUSTOMER_A, CUSTOMER_B}
        assert charge.invoice_id == "G000000123"
        assert charge.billing_currency == "USD"
        assert isinstance(charge.billed_cost, Decimal)


def test_charge_types_map_to_focus_categories_and_frequencies(tmp_path):
    copy(BILLED_CSV, tmp_path)
    [batch] = fetch(tmp_path)
    charges = by_type(batch)
    new = charges[CUSTOMER_A, "new", "Microsoft 365 E3"]
    assert (new.charge_category, new.charge_class, new.charge_frequency) == (
        ChargeCategory.PURCHASE,
        None,
        "Recurring",
    )
    assert (new.billed_cost, new.quantity) == (Decimal("360.00"), Decimal(10))
    # The term 10/3 .. 11/2 is clamped to the batch's period (the contract: charges lie in it).
    assert (new.charge_period_start, new.charge_period_end) == (
        dt.date(2026, 10, 3),
        dt.date(2026, 11, 1),
    )
    assert charges[CUSTOMER_A, "addQuantity", "Microsoft 365 E3"].charge_category is (
        ChargeCategory.PURCHASE
    )
    removed = charges[CUSTOMER_A, "removeQuantity", "Microsoft 365 E3"]
    assert (removed.charge_category, removed.charge_class) == (ChargeCategory.CREDIT, "Correction")
    assert removed.billed_cost == Decimal("-28.80")
    cancelled = charges[CUSTOMER_B, "cancelImmediate", "Microsoft Teams Essentials"]
    assert (cancelled.charge_category, cancelled.charge_class) == (
        ChargeCategory.CREDIT,
        "Correction",
    )
    reservation = charges[
        CUSTOMER_B, "new", "Reserved VM Instance, Standard_D2s_v3, US East, 1 Year"
    ]
    assert (reservation.charge_category, reservation.charge_frequency) == (
        ChargeCategory.PURCHASE,
        "One-Time",
    )
    usage = charges[CUSTOMER_A, "new", "Virtual Machines DSv3 Series"]
    assert (usage.charge_category, usage.charge_frequency) == (ChargeCategory.USAGE, "Usage-Based")


def test_partner_earned_credit_is_its_own_credit_charge(tmp_path):
    """Usage at 0.096 x 720 = 69.12 before PEC; PEC 58.75 - 69.12 = -10.37; sum 58.75."""
    copy(BILLED_CSV, tmp_path)
    [batch] = fetch(tmp_path)
    charges = by_type(batch)
    usage = charges[CUSTOMER_A, "new", "Virtual Machines DSv3 Series"]
    pec = charges[CUSTOMER_A, "Partner Earned Credit", "Virtual Machines DSv3 Series"]
    assert (usage.billed_cost, usage.list_cost, usage.quantity) == (
        Decimal("69.12"),
        Decimal("69.12"),
        Decimal(720),
    )
    assert (pec.charge_category, pec.charge_class) == (ChargeCategory.CREDIT, None)
    assert pec.billed_cost == Decimal("-10.37")
    assert usage.billed_cost + pec.billed_cost == Decimal("58.75")


def test_tax_is_a_separate_tax_charge(tmp_path):
    """Customer A's tax: 36 + 6.74 - 2.88 + 5.88 = 45.74; customer B's: -0.40 + 60 = 59.60."""
    copy(BILLED_CSV, tmp_path)
    [batch] = fetch(tmp_path)
    taxes = [c for c in batch.charges if c.charge_category is ChargeCategory.TAX]
    assert {c.line_item_type for c in taxes} == {"Tax"}
    assert {c.service_category for c in taxes} == {"Tax"}
    by_customer = {}
    for charge in taxes:
        by_customer[charge.sub_account_id] = (
            by_customer.get(charge.sub_account_id, 0) + charge.billed_cost
        )
    assert by_customer == {CUSTOMER_A: Decimal("45.74"), CUSTOMER_B: Decimal("59.60")}


def test_third_party_publisher_is_marketplace(tmp_path):
    copy(BILLED_CSV, tmp_path)
    [batch] = fetch(tmp_path)
    market = [c for c in batch.charges if c.is_marketplace]
    assert {(c.publisher, c.service_name, c.billed_cost) for c in market} == {
        ("Contoso Networks", "Contoso Firewall", Decimal("120.00"))
    }
    assert {c.publisher for c in batch.charges if not c.is_marketplace} == {"Microsoft"}


def test_jsonl_gz_export_gives_the_same_charges_and_hash_as_the_csv(tmp_path):
    copy(BILLED_CSV, tmp_path / "csv")
    gzip_copy(BILLED_JSONL, tmp_path / "json" / "part-00001.jsonl.gz")
    [from_csv] = fetch(tmp_path / "csv")
    [from_json] = fetch(tmp_path / "json")
    assert from_json.charges == from_csv.charges
    assert from_json.source_hash == from_csv.source_hash
    assert from_json.final is True


def test_row_order_and_file_split_do_not_change_charges_or_hash(tmp_path):
    write_csv(tmp_path / "a" / "recon.csv", INVOICE_ROWS)
    write_jsonl(tmp_path / "b" / "part-1.jsonl.gz", list(reversed(INVOICE_ROWS))[:4])
    write_jsonl(tmp_path / "b" / "part-2.json.gz", list(reversed(INVOICE_ROWS))[4:])
    [a] = fetch(tmp_path / "a")
    [b] = fetch(tmp_path / "b")
    assert a.charges == b.charges
    assert a.source_hash == b.source_hash
    assert b.source.count("part-") == 2


def test_a_changed_amount_changes_the_hash(tmp_path):
    write_csv(tmp_path / "a" / "recon.csv", INVOICE_ROWS)
    write_csv(
        tmp_path / "b" / "recon.csv",
        [*INVOICE_ROWS[:-1], {**INVOICE_ROWS[-1], "Subtotal": "600.01"}],
    )
    assert fetch(tmp_path / "a")[0].source_hash != fetch(tmp_path / "b")[0].source_hash


# ---------------------------------------------------------------------------
# Periods and close
# ---------------------------------------------------------------------------


# A November order not invoiced yet: no InvoiceNumber.
UNBILLED_NOVEMBER = csp_row(
    InvoiceNumber="", OrderDate="11/4/2026", ChargeStartDate="11/4/2026", ChargeEndDate="12/3/2026"
)


def test_unbilled_rows_are_not_final_unless_the_setting_says_so(tmp_path):
    write_csv(tmp_path / "unbilled.csv", [UNBILLED_NOVEMBER])
    [batch] = fetch(tmp_path)
    assert batch.period == BillingPeriod(dt.date(2026, 11, 1), dt.date(2026, 12, 1))
    assert batch.final is False
    assert batch.charges[0].invoice_id is None
    assert [b.final for b in fetch(tmp_path, final=True)] == [True]


def test_billed_and_unbilled_months_are_separate_batches(tmp_path):
    copy(BILLED_CSV, tmp_path)
    write_csv(tmp_path / "unbilled.csv", [UNBILLED_NOVEMBER])
    october, november = fetch(tmp_path)
    assert (october.period, october.final) == (OCTOBER, True)
    assert november.final is False
    assert october.source.endswith("G000000123_billed_recon.csv")
    only = fetch(tmp_path, OCTOBER)
    assert [b.period for b in only] == [OCTOBER]


def test_an_invoice_stays_whole_in_the_period_of_its_latest_date(tmp_path):
    """Billing day 15: the latest date on the invoice is 10/20 (removeQuantity), so the whole
    invoice, including the 10/1 usage, belongs to 2026-10-16 .. 2026-11-15."""
    copy(BILLED_CSV, tmp_path)
    [batch] = fetch(tmp_path, billing_day=15)
    assert batch.period == BillingPeriod(dt.date(2026, 10, 16), dt.date(2026, 11, 16))
    assert total(batch) == Decimal("1278.64")


def test_cancellation_is_placed_by_its_order_date(tmp_path):
    """ChargeStartDate 9/25 but ordered (billed) 10/2: October."""
    write_csv(
        tmp_path / "u.csv",
        [
            csp_row(
                InvoiceNumber="",
                ChargeType="cancelImmediate",
                Subtotal="-4",
                OrderDate="10/2/2026",
                ChargeStartDate="9/25/2026",
            )
        ],
    )
    [batch] = fetch(tmp_path)
    assert batch.period == OCTOBER
    charge = batch.charges[0]
    assert (charge.charge_period_start, charge.charge_period_end) == (
        dt.date(2026, 10, 1),  # 9/25 .. 11/2 clamped to the period
        dt.date(2026, 11, 1),
    )


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


def test_missing_required_fields_are_all_named(tmp_path):
    header = [h for h in CSP_HEADER if h not in {"CustomerId", "Subtotal", "ChargeStartDate"}]
    write_csv(tmp_path / "bad.csv", [{h: csp_row()[h] for h in header}], header)
    message = fetch_error(tmp_path)
    assert (
        "bad.csv: line 1 (the header) lacks the required field(s) CustomerId, Subtotal, "
        "ChargeStartDate;" in message
    )


@pytest.mark.parametrize(
    ("name", "rows", "expected"),
    [
        ("bad.csv", [{}, {"Subtotal": "36,00"}],
         ["bad.csv: line 3, field Subtotal is '36,00'; it must be a decimal number"]),
        ("bad.jsonl.gz", [{}, {"ChargeStartDate": "13/45/2026"}],
         ["bad.jsonl.gz: line 2, field chargeStartDate is", "M/D/YYYY"]),
        ("bad.csv", [{"CustomerId": ""}], ["line 2, field CustomerId is empty"]),
        ("bad.csv", [{"UnitPrice": "", "PriceAdjustmentDescription": "PEC 15%"}],
         ["line 2 has partner-earned credit"]),
    ],
    ids=["subtotal", "json-date", "empty-customer", "pec-without-unit-price"],
)  # fmt: skip
def test_bad_value_names_file_line_field_and_value(tmp_path, name, rows, expected):
    write = write_jsonl if name.endswith(".jsonl.gz") else write_csv
    write(tmp_path / name, [csp_row(**values) for values in rows])
    message = fetch_error(tmp_path)
    for part in expected:
        assert part in message


def test_empty_files_are_refused(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "empty.csv").write_bytes(b"")
    assert "empty.csv: the file is empty" in fetch_error(tmp_path / "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "empty.jsonl.gz").write_bytes(gzip.compress(b""))
    assert "empty.jsonl.gz: the file is empty" in fetch_error(tmp_path / "b")


def test_truncated_gzip_is_refused_and_nothing_is_returned(tmp_path):
    data = gzip.compress(BILLED_JSONL.read_bytes())
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    copy(BILLED_CSV, tmp_path, "z_good_other_invoice.csv")
    batches = AzureCspProvider({"path": str(tmp_path)}, tmp_path).fetch()
    with pytest.raises(SourceDataError, match=r"cut.jsonl.gz: the gzip data is cut off"):
        next(batches)


def test_json_array_is_explained(tmp_path):
    (tmp_path / "recon.json").write_text('[{"partnerId": "p"}]\n')
    assert "JSON lines (one object per line)" in fetch_error(tmp_path)


@pytest.mark.parametrize(
    ("header", "looks_like"),
    [
        (
            ["identity/LineItemId", "bill/PayerAccountId", "lineItem/UnblendedCost"],
            "AWS Cost and Usage",
        ),
        (
            [
                "BillingAccountId",
                "SubscriptionId",
                "Date",
                "MeterCategory",
                "CostInBillingCurrency",
                "ChargeType",
            ],
            "Azure EA / MCA cost-details export",
        ),
        (["BillingAccountId", "ChargeCategory", "BilledCost", "BillingPeriodStart"], "FOCUS"),
    ],
)
def test_another_providers_file_is_recognised(tmp_path, header, looks_like):
    write_csv(tmp_path / "other.csv", [dict.fromkeys(header, "1")], header)
    message = fetch_error(tmp_path)
    assert (
        f"other.csv: this looks like {'an' if looks_like[0] in 'AE' else 'a'} {looks_like}"
        in message
    )


def test_same_invoice_twice_in_the_folder_is_refused(tmp_path):
    copy(BILLED_CSV, tmp_path)
    gzip_copy(BILLED_JSONL, tmp_path / "G000000123.jsonl.gz")
    message = fetch_error(tmp_path)
    assert "hold the same 7 line item(s) of invoice G000000123" in message


def test_the_ea_provider_says_a_csp_file_is_for_azure_csp(tmp_path):
    from connector_azure import AzureCostProvider

    copy(BILLED_CSV, tmp_path)
    with pytest.raises(
        SourceDataError,
        match=r"looks like a Partner Center \(CSP\) invoice "
        r"reconciliation file \(provider azure-csp\)",
    ):
        list(AzureCostProvider({"path": str(tmp_path)}, tmp_path).fetch())


# ---------------------------------------------------------------------------
# The conformance kit
# ---------------------------------------------------------------------------


def csp_folder(folder: Path) -> dict[str, str]:
    """The billed October invoice as JSON lines, and unbilled November rows as CSV."""
    gzip_copy(BILLED_JSONL, folder / "csp" / "G000000123.jsonl.gz")
    write_csv(
        folder / "csp" / "unbilled.csv",
        [csp_row(InvoiceNumber="", OrderDate="11/4/2026", ChargeStartDate="11/4/2026",
                 ChargeEndDate="12/3/2026")],
    )  # fmt: skip
    return {"path": "csp"}


TestAzureCspConformance = provider_test_class(AzureCspProvider, settings=csp_folder)
