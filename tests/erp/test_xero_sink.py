"""The xero ERP sink against a simulated Xero: batches, exactly once, limits, totals."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import time
from collections.abc import Iterator
from decimal import Decimal
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import requests
import responses
from connector_erp_xero.limits import RateLimiter
from connector_erp_xero.plugin import XeroSink

from connector.contracts import SinkContext, StatementLine
from connector.testing.sink import SinkSetup, sink_test_class
from tests.erp.xero_fixtures import Harness, statements
from tests.erp.xero_helpers import (
    PDF,
    SETTINGS,
    TOKEN_KEY,
    MemoryTokenStore,
    contract_errors,
    valid_token,
)
from tests.erp.xero_simulator import FakeXero, Fault, ms_date
from tests.factories import make_draft, make_statement


def put_bodies(harness: Harness, path: str = "/Invoices") -> list[dict]:
    return [call.json() for call in harness.xero.api_calls("PUT", path)]


def test_the_sink_is_registered_under_the_billing_connector_entry_point_group():
    names = {ep.name: ep.value for ep in entry_points(group="billing_connector")}
    assert names["xero-sink"] == "connector_erp_xero.plugin"


def test_a_statement_becomes_one_authorised_accrec_invoice_with_xeros_total_equal_to_ours(
    harness,
):
    document = make_statement()
    [result] = harness.sink().push([document])

    assert result.ok, result.message
    [held] = harness.xero.by_number("NW-2025-0042")
    assert result.remote_id == held["InvoiceID"]
    assert held["Type"] == "ACCREC" and held["Status"] == "AUTHORISED"
    assert held["Total"] == document.total
    assert held["TotalTax"] == document.tax
    assert held["LineAmountTypes"] == "Exclusive"
    assert held["CurrencyCode"] == "USD"
    assert held["Reference"] == "aws 2025-03"
    assert (held["_date"], held["_due"]) == (dt.date(2025, 4, 8), dt.date(2025, 5, 8))
    # Tax lines are carried as TaxAmount, not as line items of their own.
    assert len(held["LineItems"]) == len([x for x in document.lines if x.kind != "tax"])


def test_120_statements_are_created_in_three_calls_of_at_most_50(harness):
    documents = statements(120)
    results = harness.sink().push(documents)

    assert all(r.ok for r in results), [r.message for r in results if not r.ok]
    sizes = [len(body["Invoices"]) for body in put_bodies(harness)]
    assert sizes == [50, 50, 20]
    assert len(harness.xero.invoices) == 120
    # Seven customers: found or created once each, in one create call.
    assert len(harness.xero.contacts) == 7
    assert len(harness.xero.api_calls("PUT", "/Contacts")) == 1
    keys = [c.headers["Idempotency-Key"] for c in harness.xero.api_calls("PUT", "/Invoices")]
    assert len(set(keys)) == 3 and all(len(key) <= 128 for key in keys)


def test_a_large_push_stays_within_60_calls_a_minute_so_xero_never_says_429(harness):
    """120 invoices in 3 batches: per batch an invoice find, a contact find, a create and a
    read-back (12), 1 contact create and 120 attachments make 133 calls, more than two
    minutes' allowance."""
    harness.xero.clock = harness.clock
    results = harness.sink().push(statements(120))

    assert all(r.ok for r in results), [r.message for r in results if not r.ok]
    # A 429 is retried after Retry-After (the refused call is not counted). In fake
    # time one thread's limiter sleep moves the shared clock forward at once, while
    # another thread that took its slot just before has not sent yet; real time has no
    # such jump. So at most one such artefact, never a failed statement.
    assert len(harness.xero.call_times) == 133
    assert harness.xero.throttled <= 1
    times = harness.xero.call_times
    busiest = max(sum(1 for u in times if t - 60 < u <= t) for t in times)
    # The allowance is used (the quarter-second arrival margin may cost one call a minute).
    assert 59 <= busiest <= 60
    assert harness.clock.sleeps  # the limiter waited instead


def test_pushing_the_same_statements_twice_with_a_new_sink_creates_them_once(harness):
    documents = statements(60)
    first = harness.sink().push(documents)
    second = harness.sink().push(documents)

    assert all(r.ok for r in first + second)
    assert len(harness.xero.invoices) == 60
    assert len(harness.xero.api_calls("PUT", "/Invoices")) == 2  # the first push's 50 + 10
    assert [r.remote_id for r in first] == [r.remote_id for r in second]
    # The PDFs are not attached a second time either.
    assert len(harness.xero.api_calls("POST", "/Invoices/")) == 60


def test_an_invoice_xero_accepted_before_a_crash_is_found_and_not_created_again(harness):
    """Xero commits the create call, then the connection drops on every attempt."""
    documents = statements(3)
    harness.xero.fail(
        Fault("PUT", "/Invoices", after_commit=True, exception=requests.ConnectionError, times=99)
    )
    lost = harness.sink().push(documents)
    assert not any(r.ok for r in lost)
    assert "retried later" in lost[0].message
    assert len(harness.xero.invoices) == 3
    harness.xero.faults.clear()

    found = harness.sink().push(documents)

    assert all(r.ok for r in found), [r.message for r in found]
    assert len(harness.xero.invoices) == 3
    assert {r.remote_id for r in found} == set(harness.xero.invoices)
    # The PDFs the crash kept from being attached are attached now.
    assert all(harness.xero.attachments.get(r.remote_id) for r in found)


def test_a_timeout_after_xero_committed_is_retried_with_the_same_key_and_creates_once(harness):
    harness.xero.fail(Fault("PUT", "/Invoices", after_commit=True, exception=requests.ReadTimeout))
    [result] = harness.sink().push(statements(1))

    assert result.ok, result.message
    puts = harness.xero.api_calls("PUT", "/Invoices")
    assert len(puts) == 2
    assert puts[0].headers["Idempotency-Key"] == puts[1].headers["Idempotency-Key"]
    assert len(harness.xero.invoices) == 1


def test_a_429_waits_the_retry_after_seconds_then_succeeds(harness):
    harness.xero.fail(Fault("PUT", "/Invoices", status=429, headers={"Retry-After": "2"}))
    [result] = harness.sink().push(statements(1))

    assert result.ok, result.message
    assert harness.clock.sleeps == [2.0]
    assert len(harness.xero.api_calls("PUT", "/Invoices")) == 2
    assert len(harness.xero.invoices) == 1


def test_a_429_asking_to_wait_hours_fails_the_push_without_waiting(harness):
    harness.xero.fail(
        Fault(
            "PUT",
            "/Invoices",
            status=429,
            headers={"Retry-After": "7200", "X-Rate-Limit-Problem": "day"},
        )
    )
    [result] = harness.sink().push(statements(1))

    assert not result.ok
    assert "7200 s" in result.message and "day limit" in result.message
    assert harness.clock.sleeps == []


def test_server_errors_are_retried_with_backoff_and_then_succeed(harness):
    harness.xero.fail(Fault("PUT", "/Invoices", status=503, times=2))
    [result] = harness.sink().push(statements(1))

    assert result.ok, result.message
    assert len(harness.xero.api_calls("PUT", "/Invoices")) == 3
    assert len(harness.clock.sleeps) == 2
    assert all(0 <= s <= 30 for s in harness.clock.sleeps)


def test_server_errors_on_every_attempt_fail_the_batch_after_max_attempts(harness):
    harness.xero.fail(Fault("PUT", "/Invoices", status=500, times=99))
    results = harness.sink(max_attempts=3).push(statements(2))

    assert not any(r.ok for r in results)
    assert "HTTP 500" in results[0].message
    assert len(harness.xero.api_calls("PUT", "/Invoices")) == 3
    assert harness.xero.invoices == {}


def test_a_validation_error_fails_only_its_statement_with_xeros_message_and_is_not_retried(
    harness,
):
    documents = statements(3)
    documents[1] = dataclasses.replace(documents[1], erp_mappings={"account_code": "999"})
    results = harness.sink().push(documents)

    assert [r.ok for r in results] == [True, False, True]
    assert [r.permanent for r in results] == [False, True, False]  # the outbox: dead at once
    assert results[1].message == (
        "Xero rejected invoice NW-2025-0002: "
        "Account code '999' is not a valid code for this document."
    )
    assert len(harness.xero.api_calls("PUT", "/Invoices")) == 1
    assert harness.clock.sleeps == []


def test_a_400_refusing_the_whole_call_keeps_xeros_message_per_invoice_and_is_not_retried(
    harness,
):
    body = {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": [
            {
                "InvoiceNumber": "NW-2025-0001",
                "ValidationErrors": [{"Message": "Invoice not of valid status for creation"}],
            }
        ],
    }
    harness.xero.fail(Fault("PUT", "/Invoices", status=400, body=json.dumps(body)))
    results = harness.sink().push(statements(2))

    assert not any(r.ok for r in results)
    assert results[0].message == (
        "Xero rejected invoice NW-2025-0001: Invoice not of valid status for creation"
    )
    assert results[1].message.endswith("A validation exception occurred")
    assert len(harness.xero.api_calls("PUT", "/Invoices")) == 1
    assert harness.clock.sleeps == []


def test_a_total_xero_computes_differently_is_a_failed_result_naming_both_totals(harness):
    document = make_statement()
    harness.xero.total_skew["NW-2025-0042"] = Decimal("0.01")
    [result] = harness.sink().push([document])

    assert not result.ok
    xero_total = document.total + Decimal("0.01")
    assert f"total of {xero_total}" in result.message
    assert f"statement's total is {document.total}" in result.message
    assert result.remote_id == harness.xero.by_number("NW-2025-0042")[0]["InvoiceID"]
    # Pushed again, the invoice is found with its wrong total and not created twice.
    [again] = harness.sink().push([document])
    assert not again.ok and "already exists in Xero with total" in again.message
    assert len(harness.xero.invoices) == 1


def test_the_statement_pdf_is_attached_to_each_created_invoice(harness):
    results = harness.sink().push(statements(2))

    for result, number in zip(results, ("NW-2025-0001", "NW-2025-0002"), strict=True):
        assert harness.xero.attachments[result.remote_id] == {f"{number}.pdf": PDF}
    assert sorted(harness.rendered) == ["st-0001", "st-0002"]


def test_existing_contacts_are_found_by_contact_number_and_not_created(harness):
    harness.xero.contacts["c-1"] = {
        "ContactID": "c-1",
        "ContactNumber": "ACME-7",
        "Name": "Acme in Xero",
    }
    document = make_statement(erp_mappings={"contact_number": "ACME-7"})
    [result] = harness.sink().push([document])

    assert result.ok
    assert harness.xero.api_calls("PUT", "/Contacts") == []
    assert harness.xero.by_number("NW-2025-0042")[0]["Contact"]["ContactID"] == "c-1"


def test_a_contact_xero_refuses_to_create_fails_its_statements_with_the_reason(harness):
    harness.xero.contacts["c-9"] = {
        "ContactID": "c-9",
        "ContactNumber": "OTHER",
        "Name": "Contoso Analytics & Co.",
    }
    [result] = harness.sink().push([make_statement()])

    assert not result.ok
    assert "Xero did not create contact CUST-1001" in result.message
    assert "already assigned to another contact" in result.message
    assert harness.xero.invoices == {}


def test_settings_and_erp_mappings_choose_item_account_tax_tracking_and_status(harness):
    document = make_statement(
        tax=Decimal(0),
        total=make_statement().subtotal,
        erp_mappings={
            "account_code": "4000",
            "item_code": "CLOUD",
            "exempt_tax_type": "EXEMPTOUTPUT",
            "tracking.Region": "West",
        },
    )
    harness.xero.accounts.add("4000")
    sink = harness.sink(
        status="DRAFT",
        tracking=[{"name": "Region", "option": "North"}, {"name": "Channel", "option": "AWS"}],
    )
    [result] = sink.push([document])

    assert result.ok, result.message
    [sent] = put_bodies(harness)[0]["Invoices"]
    assert sent["Status"] == "DRAFT"
    for line in sent["LineItems"]:
        assert (line["AccountCode"], line["ItemCode"], line["TaxType"]) == (
            "4000",
            "CLOUD",
            "EXEMPTOUTPUT",
        )
        assert line["Tracking"] == [
            {"Name": "Channel", "Option": "AWS"},
            {"Name": "Region", "Option": "West"},
        ]


def test_more_than_two_tracking_categories_fail_the_statement_before_any_call(harness):
    document = make_statement(
        erp_mappings={"tracking.A": "1", "tracking.B": "2", "tracking.C": "3"}
    )
    [result] = harness.sink().push([document])

    assert not result.ok and "at most 2" in result.message
    assert harness.xero.calls == []


def test_taxed_lines_carry_the_statements_tax_split_to_the_penny(harness):
    document = make_statement()
    harness.sink().push([document])

    [sent] = put_bodies(harness)[0]["Invoices"]
    taxed = [line for line in sent["LineItems"] if line["TaxType"] == "OUTPUT"]
    assert sum(line["TaxAmount"] for line in taxed) == document.tax
    others = [line for line in sent["LineItems"] if line["TaxType"] == "NONE"]
    assert others and all(line["TaxAmount"] == 0 for line in others)
    # Nowhere tax of the other sign than its line.
    assert all(line["TaxAmount"] * line["LineAmount"] >= 0 for line in taxed)


def test_amounts_go_out_exactly_as_decimals_never_as_float_noise(harness):
    """0.1, 0.2 and 0.3 have no exact float; 1234567.89 needs 9 digits, 7 of them integral.

    Lines 0.10 + 0.20 + 0.30 + 1234567.89 = 1234568.49, no tax: total 1234568.49.
    """
    amounts = ["0.10", "0.20", "0.30", "1234567.89"]
    lines = [StatementLine(i, "service", f"Line {i}", Decimal(a)) for i, a in enumerate(amounts, 1)]
    document = make_statement(
        lines=lines, subtotal=Decimal("1234568.49"), tax=Decimal(0), total=Decimal("1234568.49")
    )
    [result] = harness.sink().push([document])
    assert result.ok, result.message

    text = harness.xero.api_calls("PUT", "/Invoices")[0].text
    for amount in ("0.1", "0.2", "0.3", "1234567.89"):
        assert f'"UnitAmount": {amount},' in text
        assert f'"LineAmount": {amount}' in text
    assert not re.search(r"\d\.\d{5,}", text), "a float with representation noise was sent"
    sent = json.loads(text, parse_float=Decimal)["Invoices"][0]["LineItems"]
    assert [line["UnitAmount"] for line in sent] == [Decimal(a) for a in amounts]
    assert harness.xero.by_number("NW-2025-0042")[0]["Total"] == Decimal("1234568.49")


def test_an_amount_a_float_cannot_carry_exactly_is_refused_before_sending(harness):
    """10**14 + 0.01 has 17 significant digits; a float keeps about 15."""
    big = Decimal("100000000000000.01")
    lines = [StatementLine(1, "service", "Huge", big)]
    document = make_statement(lines=lines, subtotal=big, tax=Decimal(0), total=big)
    [result] = harness.sink().push([document])

    assert not result.ok and "significant digits" in result.message
    assert harness.xero.api_calls("PUT", "/Invoices") == []


def test_unitdp_4_is_sent_only_when_a_unit_price_needs_four_decimals(harness):
    """3 units for 10.00: 3.33 x 3 = 9.99, but 3.3333 x 3 = 9.9999, which rounds to 10.00."""
    plain = make_statement(statement_id="st-a", number="NW-A")
    lines = [StatementLine(1, "service", "Licences", Decimal("10.00"), quantity=Decimal(3))]
    fine = make_statement(
        statement_id="st-b",
        number="NW-B",
        lines=lines,
        subtotal=Decimal("10.00"),
        tax=Decimal(0),
        total=Decimal("10.00"),
    )
    sink = harness.sink()
    assert sink.push([plain])[0].ok
    assert sink.push([fine])[0].ok

    first, second = harness.xero.api_calls("PUT", "/Invoices")
    assert "unitdp" not in first.query
    assert second.query["unitdp"] == ["4"]
    [line] = second.json()["Invoices"][0]["LineItems"]
    assert (line["Quantity"], line["UnitAmount"], line["LineAmount"]) == (
        Decimal(3),
        Decimal("3.3333"),
        Decimal("10.00"),
    )
    assert harness.xero.by_number("NW-B")[0]["Total"] == Decimal("10.00")


def test_dates_are_sent_unchanged_when_the_process_runs_east_of_utc(harness):
    """2025-04-08 is 20,186 days after 1970-01-01: 20186 x 86,400,000 ms = 1744070400000.

    A naive datetime in Auckland (UTC+12) would go out as 2025-04-07 12:00 UTC.
    """
    original = os.environ.get("TZ")
    os.environ["TZ"] = "Pacific/Auckland"
    time.tzset()
    try:
        document = make_statement(
            issue_date=dt.datetime(2025, 4, 8), due_date=dt.datetime(2025, 5, 8)
        )
        [result] = harness.sink().push([document])
    finally:
        if original is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = original
        time.tzset()
    assert result.ok, result.message
    [sent] = put_bodies(harness)[0]["Invoices"]
    assert sent["Date"] == "/Date(1744070400000)/"
    assert (ms_date(sent["Date"]), ms_date(sent["DueDate"])) == (
        dt.date(2025, 4, 8),
        dt.date(2025, 5, 8),
    )


def test_every_request_body_validates_against_xeros_contract(harness):
    documents = statements(12)
    documents[0] = dataclasses.replace(
        documents[0], erp_mappings={"tracking.Region": "North", "item_code": "CLOUD"}
    )
    results = harness.sink(branding_theme_id="5d4dd402-c851-497e-aae1-9ff265c0d15a").push(documents)
    assert all(r.ok for r in results)

    for body in put_bodies(harness, "/Invoices"):
        assert contract_errors(body, "Invoices") == []
    for body in put_bodies(harness, "/Contacts"):
        assert contract_errors(body, "Contacts") == []


def test_the_contract_check_catches_a_wrong_body():
    body = {"Invoices": [{"Type": "SALES", "LineItems": [{"UnitAmount": "12.30"}]}]}
    errors = contract_errors(body, "Invoices")
    assert any("SALES" in e for e in errors)
    assert any("'12.30' is not of type 'number'" in e for e in errors)
    assert contract_errors({"Invoices": [{"Total": 1.0}]}, "Invoices") == [
        "$.Invoices[0].Total is read-only in the contract"
    ]


def test_drafts_and_repeated_invoice_numbers_are_refused_without_calling_xero(harness):
    twin = make_statement(statement_id="st-twin")
    results = harness.sink().push([make_draft(statement_id="st-draft"), make_statement(), twin])

    assert [r.ok for r in results] == [False, True, False]
    assert "draft" in results[0].message
    assert "also used by statement st-0001" in results[2].message
    assert len(harness.xero.invoices) == 1


def test_an_invoice_voided_in_xero_is_not_created_again(harness):
    document = make_statement()
    harness.sink().push([document])
    [held] = harness.xero.invoices.values()
    held["Status"] = "VOIDED"

    [result] = harness.sink().push([document])

    assert not result.ok and "VOIDED" in result.message
    assert len(harness.xero.invoices) == 1


# -- the conformance kit -------------------------------------------------------------

_KIT: dict[str, FakeXero] = {}


class KitXeroSink(XeroSink):
    """The sink with a limiter of its own, so the kit's pushes never wait on the clock."""

    def __init__(self, settings, context) -> None:
        super().__init__(settings, context, limiter=RateLimiter())


def count_kit_invoices(context: SinkContext) -> int:
    """Invoices the simulated organisation holds."""
    return len(_KIT["xero"].invoices) + len(_KIT["xero"].credit_notes)


_XeroKit = sink_test_class(KitXeroSink, settings=SETTINGS, count_invoices=count_kit_invoices)


class TestXeroSinkConformance(_XeroKit):  # type: ignore[misc, valid-type]
    """The kit's suite against a simulated organisation, connected (a fresh token stored)."""

    @pytest.fixture
    def kit_sink(self, tmp_path: Path) -> Iterator[SinkSetup]:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            _KIT["xero"] = FakeXero(mock)
            tokens = MemoryTokenStore({TOKEN_KEY: valid_token(expires_at=time.time() + 3600)})
            yield SinkSetup(KitXeroSink, dict(SETTINGS), tmp_path, tokens=tokens)
