"""A US company's transaction tax code (``tax_code``) is checked before the first push.

Regression (issue 18, defect 5): the preflight checked tax codes only outside the US,
so ``connector erp check`` passed with a ``tax_code`` the company does not have and
the push failed on it.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
import responses

from tests.erp.fake_clock import FakeClock
from tests.erp.quickbooks_fixtures import Worker, fresh_store, statements
from tests.erp.quickbooks_sim import FakeQuickBooks

TAXES = "see Taxes > Sales tax settings"


@pytest.fixture
def qbo():
    """A US company whose sales tax codes are 5 (active), 6 (active) and 8 (inactive)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        sim = FakeQuickBooks(rsps, clock=FakeClock())
        sim.lists["TaxCode"].update({"6": True, "8": False, "TAX": True, "NON": True})
        yield sim


def test_a_us_tax_code_the_company_lacks_is_a_gap_naming_the_valid_codes(qbo):
    worker = Worker(qbo, fresh_store(), tax_code="9")

    assert worker.sink.preflight(statements(2)) == [
        "erp.settings.tax_code '9': QuickBooks has no tax code with id 9 (the company's "
        f"active tax codes: 5, 6); {TAXES}"
    ]
    assert qbo.writes() == []


def test_every_missing_or_inactive_us_tax_code_is_reported_at_once(qbo):
    """One customer's mapping names an inactive code, another's an unknown one, the
    settings a third: three gaps, each with the key that set it, in one preflight."""
    documents = statements(3)
    documents[0] = dataclasses.replace(documents[0], erp_mappings={"tax_code": "8"})
    documents[1] = dataclasses.replace(documents[1], erp_mappings={"tax_code": "404"})
    worker = Worker(qbo, fresh_store(), tax_code="9")

    gaps = worker.sink.preflight(documents)

    assert sorted(gaps) == sorted(
        [
            "erp mapping 'tax_code' of customer CUST-1001 '8': the tax code with id 8 is "
            f"inactive in QuickBooks (the company's active tax codes: 5, 6); {TAXES}",
            "erp mapping 'tax_code' of customer CUST-1001 '404': QuickBooks has no tax "
            f"code with id 404 (the company's active tax codes: 5, 6); {TAXES}",
            "erp.settings.tax_code '9': QuickBooks has no tax code with id 9 (the "
            f"company's active tax codes: 5, 6); {TAXES}",
        ]
    )
    # The valid codes are looked up once, however many gaps name them.
    assert sum("from TaxCode where Active = true" in q for q in qbo.queries) == 1


def test_a_us_statement_without_tax_does_not_need_the_tax_code(qbo):
    """No tax, no TxnTaxDetail: the tax code is not sent, so it is not checked."""
    [document] = statements(1)
    untaxed = dataclasses.replace(document, tax=Decimal(0), total=document.subtotal)
    worker = Worker(qbo, fresh_store(), tax_code="9")

    assert worker.sink.preflight([untaxed]) == []
    assert not [q for q in qbo.queries if "from TaxCode" in q]


def test_a_us_tax_code_is_checked_even_when_the_payload_cannot_be_built(qbo):
    """An invoice number QuickBooks cannot store is one gap; the tax code is another."""
    [document] = statements(1)
    too_long = dataclasses.replace(document, number="N" * 22)
    worker = Worker(qbo, fresh_store(), tax_code="9")

    gaps = worker.sink.preflight([too_long])

    assert len(gaps) == 2 and "DocNumber holds at most" in gaps[0]
    assert gaps[1].startswith("erp.settings.tax_code '9': QuickBooks has no tax code")
