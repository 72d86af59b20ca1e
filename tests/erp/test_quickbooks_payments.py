"""The quickbooks sink's payment_status and OAuth class methods against the simulation."""

from __future__ import annotations

import base64
import datetime as dt
import time
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from connector_erp_quickbooks import oauth
from connector_erp_quickbooks.plugin import QuickBooksSink

from connector.contracts import (
    PaymentStatus,
    PluginError,
)
from connector.testing.samples import credit_note
from tests.erp.quickbooks_fixtures import KEY, SETTINGS, Worker, fresh_store, statements
from tests.erp.quickbooks_sim import (
    NOW,
    REALM,
    TOKEN_URL,
    FakeQuickBooks,
    Fault,
    token,
)
from tests.erp.token_store import MemoryTokenStore
from tests.factories import make_draft

TOTAL = Decimal("470.18")  # the factory statement's total: 448.37 + 21.81 tax


def invoice_queries(qbo: FakeQuickBooks) -> list[str]:
    return [q for q in qbo.queries if q.startswith("select * from Invoice ")]


def test_paid_unpaid_partially_paid_and_unknown_invoices(qbo):
    """Four statements of 470.18; QuickBooks holds the first three.

    The first is paid 400.00 on 1 May and 70.18 on 2 May (balance 0, paid on the later
    date); the third gets 100.00 (balance 370.18); the fourth was never delivered.
    """
    documents = statements(4)
    paid = qbo.add_invoice("NW-2025-0001", TOTAL)
    qbo.add_invoice("NW-2025-0002", TOTAL)
    partial = qbo.add_invoice("NW-2025-0003", TOTAL)
    first = qbo.pay(paid, Decimal("400.00"), "2025-05-01")
    second = qbo.pay(paid, Decimal("70.18"), "2025-05-02")
    qbo.pay(partial, Decimal("100.00"), "2025-05-03")

    statuses = Worker(qbo, fresh_store()).sink.payment_status(documents)

    assert statuses == [
        PaymentStatus("st-0001", True, dt.date(2025, 5, 2)),
        PaymentStatus("st-0002", False, None),
        PaymentStatus("st-0003", False, None),
        PaymentStatus("st-0004", False, None),
    ]
    # One query for the four numbers, one for the paid invoice's two payments only.
    assert len(invoice_queries(qbo)) == 1
    assert [q for q in qbo.queries if "from Payment" in q] == [
        f"select * from Payment where Id in ('{first}', '{second}') MAXRESULTS 1000"
    ]


def test_an_invoice_pushed_then_paid_reads_back_as_paid(qbo):
    [document] = statements(1)
    worker = Worker(qbo, fresh_store())
    [result] = worker.push([document])
    assert result.ok, result.message
    qbo.pay(result.remote_id, TOTAL, "2025-05-09")

    assert worker.sink.payment_status([document]) == [
        PaymentStatus("st-0001", True, dt.date(2025, 5, 9))
    ]


def test_a_voided_invoice_has_no_balance_but_is_not_paid(qbo):
    """QuickBooks voids by setting the amounts to 0: balance 0, but not our total."""
    [document] = statements(1)
    qbo.void(qbo.add_invoice("NW-2025-0001", TOTAL))

    assert Worker(qbo, fresh_store()).sink.payment_status([document])[0].paid is False


def test_an_invoice_settled_without_a_payment_is_paid_with_no_date(qbo):
    """Balance 0 through a credit memo: paid, but no Payment to take the date from."""
    [document] = statements(1)
    qbo.invoices[qbo.add_invoice("NW-2025-0001", TOTAL)]["Balance"] = Decimal(0)

    status = Worker(qbo, fresh_store()).sink.payment_status([document])[0]

    assert status == PaymentStatus("st-0001", True, None)
    assert not [q for q in qbo.queries if "from Payment" in q]


def test_a_credit_memo_is_paid_once_fully_applied(qbo):
    """The kit's credit note totals -27.60: a credit memo of 27.60 in QuickBooks."""
    document = credit_note()
    qbo.add_credit_memo(document.number, Decimal("27.60"), remaining=Decimal(0))

    [status] = Worker(qbo, fresh_store()).sink.payment_status([document])

    assert status == PaymentStatus(document.statement_id, True, None)
    assert qbo.queries == [
        f"select * from CreditMemo where DocNumber in ('{document.number}') MAXRESULTS 1000"
    ]


def test_a_credit_memo_with_credit_remaining_is_not_paid(qbo):
    """27.60 credited, 10.00 applied: 17.60 remains."""
    document = credit_note()
    qbo.add_credit_memo(document.number, Decimal("27.60"), remaining=Decimal("17.60"))

    assert Worker(qbo, fresh_store()).sink.payment_status([document])[0].paid is False


def test_70_statements_take_three_queries_of_30_30_and_10_numbers(qbo):
    documents = statements(70)
    for document in documents:
        qbo.add_invoice(document.number, TOTAL)
    worker = Worker(qbo, fresh_store())

    statuses = worker.sink.payment_status(documents)

    assert [s.paid for s in statuses] == [False] * 70
    sizes = [query.count("'NW-2025-") for query in invoice_queries(qbo)]
    assert sizes == [30, 30, 10]
    assert qbo.writes() == []
    assert worker.limiter.acquired == 3  # every query through the company's limiter


def test_70_paid_statements_read_their_payment_dates_in_three_more_queries(qbo):
    documents = statements(70)
    for day, document in enumerate(documents, start=1):
        invoice_id = qbo.add_invoice(document.number, TOTAL)
        qbo.pay(invoice_id, TOTAL, f"2025-05-{day % 28 + 1:02d}")
    worker = Worker(qbo, fresh_store())

    statuses = worker.sink.payment_status(documents)

    assert all(s.paid for s in statuses)
    # Statement n was paid on day n % 28 + 1 of May.
    assert [s.paid_on for s in statuses] == [dt.date(2025, 5, n % 28 + 1) for n in range(1, 71)]
    payment_queries = [q for q in qbo.queries if "from Payment" in q]
    assert len(invoice_queries(qbo)) == 3 and len(payment_queries) == 3
    assert worker.limiter.acquired == 6


def test_queries_keep_to_10_a_second(qbo):
    """400 statements: 14 queries, more than the 10 a second allows."""
    documents = statements(400)
    worker = Worker(qbo, fresh_store())

    worker.sink.payment_status(documents)

    stamps = [at for endpoint, at in qbo.calls if endpoint == "query"]
    assert len(stamps) == 14
    assert max(sum(1 for s in stamps if start <= s < start + 1) for start in stamps) <= 10


def test_an_expired_token_is_refreshed_before_the_lookup(qbo):
    store = MemoryTokenStore({KEY: token(expires_at=NOW - 10)})
    qbo.add_invoice("NW-2025-0001", TOTAL)

    Worker(qbo, store).sink.payment_status(statements(1))

    assert qbo.refreshes == 1 and store.tokens[KEY]["refresh_token"] == "refresh-1"
    assert [endpoint for endpoint, _ in qbo.calls] == ["token", "query"]


def test_a_server_error_is_retried_like_a_push(qbo):
    paid = qbo.add_invoice("NW-2025-0001", TOTAL)
    qbo.pay(paid, TOTAL, "2025-05-02")
    qbo.inject("query", Fault(status=503))
    worker = Worker(qbo, fresh_store())

    [status] = worker.sink.payment_status(statements(1))

    assert status.paid is True
    assert len(worker.retry_sleeps) == 1


def test_a_query_quickbooks_refuses_raises_a_plugin_error_with_its_message(qbo):
    fault = {"Fault": {"Error": [{"Message": "Error parsing query", "code": "4000"}]}}
    qbo.inject("query", Fault(status=400, body=fault))

    with pytest.raises(PluginError, match="Error parsing query"):
        Worker(qbo, fresh_store()).sink.payment_status(statements(1))


def test_a_draft_without_a_number_is_unpaid_without_a_query(qbo):
    draft = make_draft(statement_id="st-d")
    assert Worker(qbo, fresh_store()).sink.payment_status([draft]) == [
        PaymentStatus("st-d", False, None)
    ]
    assert qbo.calls == []


# -- connecting (ConnectableSink) ----------------------------------------------------

REDIRECT = "https://connector.example/quickbooks/callback"
# As the core hands them to the class methods: secrets resolved to plain strings.
RESOLVED = {**SETTINGS, "client_secret": "app-client-secret", "redirect_uri": REDIRECT}


def test_token_key_and_authorization_url_are_the_oauth_modules():
    assert QuickBooksSink.token_key(RESOLVED) == oauth.token_key(RESOLVED) == KEY
    assert QuickBooksSink.authorization_url(RESOLVED, "s-1") == oauth.authorization_url(
        RESOLVED, "s-1"
    )


def test_exchange_code_returns_the_oauth_modules_token_with_the_resolved_secret(rsps):
    sim = FakeQuickBooks(rsps)
    url = f"{REDIRECT}?{urlencode({'code': 'good-code', 'state': 's-1', 'realmId': REALM})}"
    before = time.time()

    tokens = QuickBooksSink.exchange_code(RESOLVED, url, "s-1")

    assert tokens["access_token"] == "access-1" and tokens["refresh_token"] == "refresh-1"
    assert tokens["realm_id"] == REALM and sim.refreshes == 1
    assert before + 3600 <= tokens["expires_at"] <= time.time() + 3600
    [call] = [c for c in rsps.calls if c.request.url == TOKEN_URL]
    basic = base64.b64encode(b"app-client-id:app-client-secret").decode()
    assert call.request.headers["Authorization"] == f"Basic {basic}"


def test_exchange_code_checks_the_state_it_is_given(rsps):
    FakeQuickBooks(rsps)
    url = f"{REDIRECT}?{urlencode({'code': 'good-code', 'state': 'evil', 'realmId': REALM})}"

    with pytest.raises(PluginError, match="state"):
        QuickBooksSink.exchange_code(RESOLVED, url, "s-1")
    assert len(rsps.calls) == 0
