"""A credit memo names the invoice it credits, as far as QuickBooks Online's API allows."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
import responses

from connector.contracts import CreditedInvoice
from connector.testing.samples import credit_note
from tests.erp.fake_clock import FakeClock
from tests.erp.quickbooks_fixtures import Worker, fresh_store
from tests.erp.quickbooks_sim import FakeQuickBooks
from tests.erp.quickbooks_xml import validate
from tests.factories import TAX_RATE


@pytest.fixture
def qbo():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeQuickBooks(mock, clock=FakeClock())


def test_the_credit_memo_names_the_invoice_in_its_memo_and_private_note(qbo):
    """Kit credit note (27.60) crediting NW-2025-0042 of 2025-04-08: the customer's memo
    leads with it, the private note ends with it, and the body is a valid CreditMemo."""
    document = dataclasses.replace(
        credit_note(),
        tax_name="US Sales Tax",
        tax_rate=TAX_RATE,
        notes="Wrong account billed.",
        credited_invoice=CreditedInvoice("NW-2025-0042", dt.date(2025, 4, 8), "st-0001"),
    )

    [result] = Worker(qbo, fresh_store()).push([document])

    assert result.ok, result.message
    [memo] = qbo.credit_memos.values()
    assert memo["CustomerMemo"] == {
        "value": "Credit note for NW-2025-0042, issued 2025-04-08\nWrong account billed."
    }
    assert memo["PrivateNote"].endswith("; credits invoice NW-2025-0042")
    assert memo["TotalAmt"] == Decimal("27.60")
    added = ("Id", "TotalAmt", "RemainingCredit")  # what the simulated QuickBooks added
    validate("CreditMemo", {k: v for k, v in memo.items() if k not in added})

    # Voiding writes "Credit note for ACME-01001: <reason>" as the notes: not repeated.
    voided = dataclasses.replace(
        document, statement_id="kit-st-0009", number="NW-CN-2025-0008",
        notes="Credit note for NW-2025-0042: wrong account billed",
    )  # fmt: skip
    [again] = Worker(qbo, fresh_store()).push([voided])
    assert again.ok, again.message
    [second] = [m for m in qbo.credit_memos.values() if m["DocNumber"] == "NW-CN-2025-0008"]
    assert second["CustomerMemo"] == {"value": "Credit note for NW-2025-0042: wrong account billed"}
