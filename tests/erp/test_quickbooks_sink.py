"""The quickbooks sink against the simulated company: exactly once, within the limits.

Every Invoice, Customer and Attachable body the sink sends is validated against
Intuit's XSDs by the simulator (tests/erp/quickbooks_sim.py).
"""

from __future__ import annotations

import dataclasses
import json
import time
from decimal import Decimal
from importlib.metadata import entry_points
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from connector_erp_quickbooks.plugin import QuickBooksSink

from connector.contracts import SinkContext, StatementDocument, StatementLine
from connector.testing import sink_test_class
from connector.testing.samples import credit_note
from connector.testing.sink import MemoryTokenStore as KitTokenStore
from connector.testing.sink import SinkSetup
from tests.erp.fake_clock import FakeClock
from tests.erp.quickbooks_fixtures import KEY, SETTINGS, Worker, fresh_store, statements
from tests.erp.quickbooks_sim import (
    NOW,
    Crash,
    FakeQuickBooks,
    Fault,
    token,
    validation_fault,
)
from tests.erp.token_store import MemoryTokenStore
from tests.factories import TAX_RATE, make_statement


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def qbo(rsps, clock) -> FakeQuickBooks:
    return FakeQuickBooks(rsps, clock=clock)


def sent_invoices(qbo: FakeQuickBooks) -> list[dict]:
    batches = [
        json.loads(body, parse_float=Decimal)
        for body in qbo.request_bodies
        if body.startswith('{"BatchItemRequest"')
    ]
    return [item["Invoice"] for batch in batches for item in batch["BatchItemRequest"]]


def simple_statement(amount: str, **fields) -> StatementDocument:
    """One untaxed service line of ``amount``: total = amount."""
    value = Decimal(amount)
    lines = [StatementLine(1, "service", "Managed services", value)]
    values = dict(lines=lines, subtotal=value, tax=Decimal("0.00"), total=value)
    return make_statement(**{**values, **fields})


def rated(document: StatementDocument) -> StatementDocument:
    """``document`` stating the 8.25% its tax was computed at (the factory leaves it out)."""
    return dataclasses.replace(document, tax_name="US Sales Tax", tax_rate=TAX_RATE)


# -- batches, exactly once -----------------------------------------------------------


def test_65_statements_go_in_batches_of_30_30_and_5(qbo):
    documents = statements(65)
    results = Worker(qbo, fresh_store()).push(documents)
    assert all(r.ok for r in results), [r.message for r in results if not r.ok]
    assert qbo.batch_sizes == [30, 30, 5]
    assert len(qbo.invoices) == 65
    for document, result in zip(documents, results, strict=True):
        [invoice] = qbo.invoices_numbered(document.number)
        assert result.remote_id == invoice["Id"]
        assert invoice["TotalAmt"] == document.total
    # One customer, found missing once and created once for all 65.
    assert len(qbo.customers) == 1 and qbo.count("customer") == 1


def test_requests_stay_within_10_a_second_per_company(qbo):
    Worker(qbo, fresh_store()).push(statements(65))
    stamps = [at for endpoint, at in qbo.calls if endpoint != "token"]
    # 65 uploads + 3 batches + 3 number queries + customer query and create = 73 calls.
    assert len(stamps) == 73
    assert max(sum(1 for s in stamps if start <= s < start + 1) for start in stamps) <= 10
    # 73 calls at 10 a second need at least 7 seconds.
    assert stamps[-1] - stamps[0] >= 7


def test_the_same_statements_pushed_again_by_a_new_sink_are_created_once(qbo):
    documents = statements(5)
    first = Worker(qbo, fresh_store()).push(documents)
    second = Worker(qbo, fresh_store()).push(documents)
    assert all(r.ok for r in second)
    assert [r.remote_id for r in second] == [r.remote_id for r in first]
    assert len(qbo.invoices) == 5 and qbo.batch_sizes == [5]
    assert all("not created again" in r.message for r in second)
    assert len(qbo.attachments) == 5  # the PDFs are not attached twice either


def test_a_crash_after_quickbooks_accepted_is_found_by_number_and_not_created_again(qbo):
    documents = statements(3)
    qbo.inject("batch", Fault(commit=True, exception=Crash()))
    with pytest.raises(Crash):
        Worker(qbo, fresh_store()).push(documents[:2])
    assert len(qbo.invoices) == 2 and qbo.attachments == []

    # Restarted with one more statement: another batch, so another requestid.
    results = Worker(qbo, fresh_store()).push(documents)
    assert all(r.ok for r in results)
    for document in documents:
        assert len(qbo.invoices_numbered(document.number)) == 1
    assert qbo.batch_sizes == [2, 1]
    # The two found invoices got the PDF they missed, once each.
    assert sorted(a["FileName"] for a in qbo.attachments) == [f"{d.number}.pdf" for d in documents]


def test_a_timeout_after_commit_is_retried_under_the_same_requestid_and_creates_once(qbo):
    qbo.inject("batch", Fault(commit=True))  # ReadTimeout after QuickBooks committed
    worker = Worker(qbo, fresh_store())
    results = worker.push(statements(2))
    assert all(r.ok for r in results)
    assert qbo.count("batch") == 2
    assert len([key for key in qbo.answered if key[0] == "batch"]) == 1  # one requestid
    assert len(qbo.invoices) == 2 and len(worker.retry_sleeps) == 1


def test_a_connection_reset_before_quickbooks_acted_is_retried(qbo):
    qbo.inject("batch", Fault(exception=requests.ConnectionError("connection reset by peer")))
    results = Worker(qbo, fresh_store()).push(statements(1))
    assert results[0].ok and len(qbo.invoices) == 1


def test_429_waits_the_retry_after_quickbooks_gives(qbo):
    qbo.inject(
        "batch", Fault(status=429, headers={"Retry-After": "7"}, body={"error": "throttled"})
    )
    worker = Worker(qbo, fresh_store())
    [result] = worker.push(statements(1))
    assert result.ok
    assert worker.retry_sleeps == [7.0]
    assert len(qbo.invoices) == 1


def test_500_and_503_are_retried_with_growing_jittered_backoff(qbo):
    qbo.inject("query", Fault(status=500), Fault(status=503), Fault(status=502))
    worker = Worker(qbo, fresh_store())
    [result] = worker.push(statements(1))
    assert result.ok
    # wait_exponential_jitter(initial=1, jitter=1): 1·2^n plus up to 1 second.
    first, second, third = worker.retry_sleeps
    assert 1 <= first <= 2 and 2 <= second <= 3 and 4 <= third <= 5


def test_5xx_that_never_ends_fails_the_batch_without_creating(qbo):
    qbo.inject("query", *[Fault(status=503)] * 6)
    worker = Worker(qbo, fresh_store())
    results = worker.push(statements(2))
    assert not any(r.ok for r in results)
    assert "HTTP 503" in results[0].message
    assert len(worker.retry_sleeps) == 5 and qbo.invoices == {}


def test_a_validation_fault_on_one_invoice_is_not_retried_and_keeps_quickbooks_message(qbo):
    documents = statements(3)
    qbo.rejected_numbers[documents[1].number] = "Item 1 is inactive"
    worker = Worker(qbo, fresh_store())
    results = worker.push(documents)
    assert [r.ok for r in results] == [True, False, True]
    assert "A business validation error has occurred" in results[1].message
    assert "Item 1 is inactive" in results[1].message and "6000" in results[1].message
    assert [r.permanent for r in results] == [False, True, False]  # the outbox: dead at once
    assert qbo.count("batch") == 1 and worker.retry_sleeps == []


def test_a_400_fault_on_the_whole_request_is_not_retried(qbo):
    body = validation_fault("Request has invalid or unsupported property", "Property Name:Foo")
    qbo.inject("batch", Fault(status=400, body=body))
    worker = Worker(qbo, fresh_store())
    results = worker.push(statements(2))
    assert not any(r.ok for r in results)
    assert "Request has invalid or unsupported property" in results[0].message
    assert "Property Name:Foo" in results[0].message
    assert all(r.permanent for r in results)
    assert qbo.count("batch") == 1 and worker.retry_sleeps == []


def test_an_invoice_number_longer_than_21_characters_is_refused_before_any_call(qbo):
    number = "NW-2025-00000000000042"  # 22 characters
    [result] = Worker(qbo, fresh_store()).push([make_statement(number=number)])
    assert not result.ok
    assert number in result.message and "at most 21" in result.message
    assert qbo.calls == []


def test_an_invoice_number_of_exactly_21_characters_is_sent_whole(qbo):
    number = "NW-2025-0000000000042"  # 21 characters
    [result] = Worker(qbo, fresh_store()).push([make_statement(number=number)])
    assert result.ok and qbo.invoices_numbered(number)


def test_a_draft_is_refused(qbo):
    [result] = Worker(qbo, fresh_store()).push([make_statement(status="Draft", number=None)])
    assert not result.ok and "draft" in result.message and qbo.calls == []


def test_two_statements_with_one_number_in_a_push_are_not_both_sent(qbo):
    one, two = make_statement(statement_id="a"), make_statement(statement_id="b")
    results = Worker(qbo, fresh_store()).push([one, two])
    assert [r.ok for r in results] == [True, False]
    assert "also used by statement a" in results[1].message
    assert len(qbo.invoices) == 1


# -- totals --------------------------------------------------------------------------


def test_an_existing_invoice_with_another_total_is_reported_and_not_duplicated(qbo):
    document = make_statement()
    existing = qbo.add_invoice(document.number, Decimal("1.00"))
    [result] = Worker(qbo, fresh_store()).push([document])
    assert not result.ok
    assert f"Id {existing} total 1.00" in result.message and "470.18" in result.message
    assert qbo.batch_sizes == [] and len(qbo.invoices) == 1


def test_a_total_quickbooks_computes_differently_fails_naming_both(rsps, clock):
    """A VAT company whose code 20 holds 20% while our statement charged 8.25%.

    Lines: services 141.81 + 77.02 + 24.14 + 71.41, marketplace 184.00 + 0.00,
    rounding -0.01, credit -50.00: net 448.37. Taxed (all but marketplace) 264.37;
    at 20% QuickBooks adds 52.874 -> 52.87: 501.24. Ours: 448.37 + 21.81 = 470.18.
    """
    qbo = FakeQuickBooks(rsps, clock=clock, us=False, tax_rates={"20": Decimal("0.20")})
    document = rated(make_statement())
    settings = {"company_country": "GB", "home_currency": "USD", "tax_code": "20"}
    [result] = Worker(qbo, fresh_store(), exempt_tax_code="21", **settings).push([document])
    assert not result.ok and result.remote_id is not None
    assert "501.24" in result.message and "470.18" in result.message


def test_a_tax_quickbooks_cannot_reproduce_from_the_lines_is_refused_without_a_rate_id(qbo):
    """Our tax 21.81 at 8.25%; the lines' base gives 21.81 with the credit and 25.94
    without it: a stated 30.00 matches neither, so only a tax line could carry it."""
    lines = [ln for ln in make_statement().lines if ln.kind != "tax"]
    net = sum((ln.amount for ln in lines), Decimal(0))
    document = rated(make_statement(tax=Decimal("30.00"), total=net + 30))
    settings = {"company_country": "GB", "home_currency": "USD", "tax_code": "20"}
    [result] = Worker(qbo, fresh_store(), exempt_tax_code="21", **settings).push([document])
    assert not result.ok and "tax_rate_ref" in result.message and qbo.calls == []


# -- payloads ------------------------------------------------------------------------


def test_us_company_lines_are_tax_or_non_and_the_transaction_carries_our_tax(qbo):
    document = make_statement()
    [result] = Worker(qbo, fresh_store()).push([document])
    assert result.ok
    [invoice] = sent_invoices(qbo)
    codes = {
        line["Description"]: line["SalesItemLineDetail"]["TaxCodeRef"]["value"]
        for line in invoice["Line"]
    }
    kinds = {ln.description: ln.kind for ln in document.lines if ln.kind != "tax"}
    for description, code in codes.items():
        # The factory taxes services, rounding and the credit; never marketplace.
        assert code == (
            "NON" if kinds[description.split(" (account")[0]] == "marketplace" else "TAX"
        )
    assert invoice["TxnTaxDetail"] == {"TxnTaxCodeRef": {"value": "5"}, "TotalTax": document.tax}
    assert "GlobalTaxCalculation" not in invoice


def test_non_us_company_lines_carry_tax_code_ids_and_tax_is_excluded(rsps, clock):
    """Code 20 holds our 8.25%, code 21 zero: QuickBooks arrives at our total itself."""
    rates = {"20": Decimal("0.0825"), "21": Decimal("0")}
    qbo = FakeQuickBooks(rsps, clock=clock, us=False, tax_rates=rates)
    settings = {"company_country": "CA", "home_currency": "USD"}
    document = rated(make_statement())
    worker = Worker(qbo, fresh_store(), tax_code="20", exempt_tax_code="21", **settings)
    [result] = worker.push([document])
    assert result.ok, result.message
    [invoice] = sent_invoices(qbo)
    assert invoice["GlobalTaxCalculation"] == "TaxExcluded"
    assert "TxnTaxDetail" not in invoice
    codes = [line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in invoice["Line"]]
    marketplace = sum(1 for ln in document.lines if ln.kind == "marketplace")
    assert codes.count("21") == marketplace and set(codes) == {"20", "21"}


def test_non_us_company_with_a_tax_rate_id_sends_our_tax_amount(rsps, clock):
    qbo = FakeQuickBooks(rsps, clock=clock, us=False, tax_rates={"20": Decimal("0.0825")})
    document = rated(make_statement())
    settings = {"company_country": "GB", "home_currency": "USD", "tax_rate_ref": "33"}
    [result] = Worker(qbo, fresh_store(), tax_code="20", exempt_tax_code="21", **settings).push(
        [document]
    )
    assert result.ok
    [invoice] = sent_invoices(qbo)
    [tax_line] = invoice["TxnTaxDetail"]["TaxLine"]
    assert tax_line["Amount"] == document.tax
    assert tax_line["TaxLineDetail"]["TaxRateRef"] == {"value": "33"}
    assert tax_line["TaxLineDetail"]["TaxPercent"] == Decimal("8.25")


def test_amounts_go_out_as_exact_json_numbers(qbo):
    [result] = Worker(qbo, fresh_store()).push([simple_statement("123.45")])
    assert result.ok
    batch_body = next(b for b in qbo.request_bodies if "BatchItemRequest" in b)
    assert '"Amount":123.45' in batch_body and '"UnitPrice":123.45' in batch_body
    assert '"123.45"' not in batch_body


def test_dates_memo_terms_payment_and_exchange_rate_are_explicit(qbo):
    document = make_statement()
    Worker(qbo, fresh_store(), terms_ref="3").push([document])
    [invoice] = sent_invoices(qbo)
    assert invoice["TxnDate"] == "2025-04-08" and invoice["DueDate"] == "2025-05-08"
    assert invoice["CustomerMemo"] == {"value": document.notes}
    assert invoice["SalesTermRef"] == {"value": "3"}
    assert invoice["AllowIPNPayment"] is False
    assert invoice["CurrencyRef"] == {"value": "USD"} and invoice["ExchangeRate"] == 1
    assert invoice["BillEmail"] == {"Address": "ap@contoso.example"}


def test_a_foreign_currency_invoice_carries_the_rate_to_the_home_currency(qbo):
    """Billed in USD (home), invoiced in EUR at 0.8 EUR per USD: 1 EUR = 1.25 USD."""
    document = make_statement(currency="EUR", billing_currency="USD", exchange_rate=Decimal("0.8"))
    [result] = Worker(qbo, fresh_store()).push([document])
    assert result.ok
    [invoice] = sent_invoices(qbo)
    assert invoice["CurrencyRef"] == {"value": "EUR"}
    assert invoice["ExchangeRate"] == Decimal("1.25")


def test_item_refs_come_from_settings_and_mappings_per_line_kind(qbo):
    mappings = {"item_ref": "7", "item_ref.marketplace": "8"}
    document = make_statement(erp_mappings=mappings)
    Worker(qbo, fresh_store(), item_refs={"credit": "9"}).push([document])
    [invoice] = sent_invoices(qbo)
    kinds = [ln.kind for ln in sorted(document.lines, key=lambda x: x.position) if ln.kind != "tax"]
    items = [line["SalesItemLineDetail"]["ItemRef"]["value"] for line in invoice["Line"]]
    expected = {"marketplace": "8", "credit": "9"}
    assert items == [expected.get(kind, "7") for kind in kinds]


# -- customers -----------------------------------------------------------------------


def test_an_existing_customer_is_found_by_display_name(qbo):
    customer_id = qbo.add_customer("Contoso Analytics & Co.")
    Worker(qbo, fresh_store()).push([make_statement()])
    [invoice] = sent_invoices(qbo)
    assert invoice["CustomerRef"] == {"value": customer_id}
    assert qbo.count("customer") == 0


def test_a_mapped_customer_id_is_used_without_a_lookup(qbo):
    customer_id = qbo.add_customer("Contoso (AR)")
    Worker(qbo, fresh_store()).push([make_statement(erp_mappings={"customer_ref": customer_id})])
    [invoice] = sent_invoices(qbo)
    assert invoice["CustomerRef"] == {"value": customer_id}
    assert not any("from Customer" in body for body in qbo.request_bodies)


def test_a_missing_customer_is_created_with_the_statement_details(qbo):
    Worker(qbo, fresh_store()).push([make_statement()])
    [customer] = qbo.customers.values()
    assert customer["DisplayName"] == "Contoso Analytics & Co."
    assert customer["PrimaryEmailAddr"] == {"Address": "ap@contoso.example"}
    assert customer["BillAddr"]["Line1"] == "88 Market Street"
    assert customer["CurrencyRef"] == {"value": "USD"}


# -- the PDF -------------------------------------------------------------------------


def test_the_rendered_pdf_is_attached_to_the_invoice(qbo):
    worker = Worker(qbo, fresh_store())
    [result] = worker.push([make_statement()])
    [attachment] = qbo.attachments
    assert attachment["invoice_id"] == result.remote_id
    assert attachment["FileName"] == "NW-2025-0042.pdf"
    assert attachment["bytes"] == b"%PDF-1.4 statement NW-2025-0042"


def test_a_failed_attachment_keeps_the_invoice_id_and_the_retry_only_attaches(qbo):
    qbo.inject("upload", Fault(status=400, body=validation_fault("File too large", "limit")))
    [first] = Worker(qbo, fresh_store()).push([make_statement()])
    assert not first.ok and first.remote_id is not None
    assert "will not be created again" in first.message and "File too large" in first.message
    [second] = Worker(qbo, fresh_store()).push([make_statement()])
    assert second.ok and second.remote_id == first.remote_id
    assert len(qbo.invoices) == 1 and len(qbo.attachments) == 1


# -- tokens --------------------------------------------------------------------------


def test_an_expired_token_is_refreshed_first_and_the_rotated_one_saved(qbo):
    store = MemoryTokenStore({KEY: token(expires_at=NOW - 10)})
    [result] = Worker(qbo, store).push([make_statement()])
    assert result.ok and qbo.refreshes == 1
    assert store.tokens[KEY]["refresh_token"] == "refresh-1"
    assert store.tokens[KEY]["access_token"] == "access-1"
    assert store.tokens[KEY]["expires_at"] == NOW + 3600


def test_a_401_refreshes_once_and_retries(qbo):
    qbo.access_tokens = {"someone-else's"}  # our stored access token was revoked
    store = fresh_store()
    [result] = Worker(qbo, store).push([make_statement()])
    assert result.ok and qbo.refreshes == 1
    assert store.tokens[KEY]["refresh_token"] == "refresh-1"


def test_a_refused_refresh_token_fails_the_push_and_says_to_reconnect(qbo):
    store = MemoryTokenStore({KEY: token(refresh="stale", expires_at=NOW - 10)})
    results = Worker(qbo, store).push(statements(2))
    assert not any(r.ok for r in results)
    assert "invalid_grant" in results[0].message
    assert "connector erp connect quickbooks" in results[0].message
    assert [e for e, _ in qbo.calls] == ["token"] and store.saves == []


def test_an_unconnected_company_fails_with_the_connect_command(qbo):
    [result] = Worker(qbo, MemoryTokenStore()).push([make_statement()])
    assert not result.ok and "connector erp connect quickbooks" in result.message


def test_the_request_carries_minorversion_and_a_requestid(qbo, rsps):
    Worker(qbo, fresh_store()).push([make_statement()])
    batch_urls = [c.request.url for c in rsps.calls if "/batch" in c.request.url]
    [url] = batch_urls
    query = parse_qs(urlsplit(url).query)
    assert query["minorversion"] == ["75"] and len(query["requestid"][0]) == 36


def test_the_requestid_is_the_same_for_the_same_statements(qbo, rsps):
    """A batch of the same statement revisions always carries the same requestid."""
    Worker(qbo, fresh_store()).push(statements(2))
    qbo.invoices.clear()
    Worker(qbo, fresh_store()).push(statements(2))
    ids = [
        parse_qs(urlsplit(c.request.url).query)["requestid"][0]
        for c in rsps.calls
        if "/batch" in c.request.url
    ]
    assert len(ids) == 2 and ids[0] == ids[1]


def test_the_plugin_registers_the_quickbooks_sink():
    [entry] = [e for e in entry_points(group="billing_connector") if e.name == "quickbooks-sink"]
    module = entry.load()
    added = []

    class Registry:
        def add(self, cls):
            added.append(cls)

    module.connector_register_sinks(Registry())
    assert added == [QuickBooksSink] and QuickBooksSink.name == "quickbooks"


def test_a_document_given_twice_shares_one_outcome(qbo):
    document = make_statement()
    results = Worker(qbo, fresh_store()).push([document, dataclasses.replace(document)])
    assert results[0] == results[1] and results[0].ok and len(qbo.invoices) == 1


# -- credit memos --------------------------------------------------------------------


def test_a_statement_crediting_the_customer_becomes_a_credit_memo_with_positive_amounts(qbo):
    """Kit credit note: services -20.00 and -5.50, tax -2.10, total -27.60: QuickBooks
    refuses negative invoices, so a credit memo of 20.00 + 5.50 + 2.10 = 27.60."""
    document = rated(credit_note())
    worker = Worker(qbo, fresh_store())
    [result] = worker.push([document])
    assert result.ok, result.message
    assert "credit memo" in result.message and qbo.invoices == {}
    [memo] = qbo.credit_memos.values()
    assert [line["Amount"] for line in memo["Line"]] == [Decimal("20.00"), Decimal("5.50")]
    assert memo["TxnTaxDetail"]["TotalTax"] == Decimal("2.10")
    assert memo["TotalAmt"] == Decimal("27.60")
    assert "DueDate" not in memo and "AllowIPNPayment" not in memo
    [attachment] = qbo.attachments
    assert attachment["invoice_id"] == memo["Id"]

    [again] = Worker(qbo, fresh_store()).push([document])
    assert again.ok and again.remote_id == result.remote_id and len(qbo.credit_memos) == 1


# -- the conformance kit -------------------------------------------------------------

_KIT: dict[str, FakeQuickBooks] = {}


def count_kit_invoices(context: SinkContext) -> int:
    """Invoices and credit memos the simulated company holds."""
    sim = _KIT["sim"]
    return len(sim.invoices) + len(sim.credit_memos)


_QuickBooksKit = sink_test_class(
    QuickBooksSink, settings=SETTINGS, count_invoices=count_kit_invoices
)


class TestQuickBooksSinkConformance(_QuickBooksKit):  # type: ignore[misc, valid-type]
    """The kit's suite against a simulated company, connected (a fresh token stored)."""

    @pytest.fixture
    def kit_sink(self, tmp_path, rsps):
        _KIT["sim"] = FakeQuickBooks(rsps)
        tokens = KitTokenStore({KEY: token(expires_at=time.time() + 3600)})
        return SinkSetup(QuickBooksSink, dict(SETTINGS), tmp_path, tokens=tokens)
