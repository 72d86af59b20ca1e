"""The xero sink's preflight and OAuth class methods against the simulated Xero."""

from __future__ import annotations

import dataclasses
import time
from decimal import Decimal

import pytest
import responses
from connector_erp_xero import oauth
from connector_erp_xero.plugin import XeroSink

from connector.contracts import PluginError, StatementLine
from tests.erp.xero_fixtures import Harness, statements
from tests.erp.xero_helpers import SETTINGS, TOKEN_KEY
from tests.erp.xero_simulator import FakeXero, Fault
from tests.factories import make_statement

CHART = "use the code of an active revenue account (Xero: Accounting > Chart of accounts)"
TAX_RATES = "use the tax type of an active sales tax rate (Xero: Accounting > Advanced > Tax rates)"


def writes(harness: Harness) -> list[str]:
    return [f"{c.method} {c.path}" for c in harness.xero.calls if c.method != "GET"]


def test_all_mappings_present_gives_no_gaps_and_new_contacts_are_not_gaps(harness):
    """Account 200, OUTPUT and NONE exist; the contacts do not, which a push creates."""
    assert harness.sink().preflight(statements(3)) == []
    paths = [c.path for c in harness.xero.calls]
    # No items or tracking mapped and all in the base currency: three reads, no more.
    assert paths == ["/Accounts", "/TaxRates", "/Organisation"]
    assert harness.xero.contacts == {} and harness.xero.invoices == {}


def test_every_gap_is_found_in_one_call_and_nothing_is_written(harness):
    """A bad account code (one customer), a missing tax type (settings), an archived and
    a non-revenue account, a missing item, a missing tracking option and category, and a
    currency the organisation has not enabled: eight gaps, one preflight."""
    harness.xero.accounts |= {"610", "4100"}
    harness.xero.account_info["610"] = {"Class": "ASSET", "Type": "CURRENT"}
    harness.xero.account_info["4100"] = {"Status": "ARCHIVED"}
    harness.xero.tracking = {"Region": ["North", "South"]}
    documents = statements(3)
    documents[0] = dataclasses.replace(
        documents[0],
        erp_mappings={"account_code": "999", "item_code": "CLOUD", "tracking.Region": "West"},
    )
    documents[1] = dataclasses.replace(
        documents[1], currency="EUR", erp_mappings={"account_code": "610"}
    )
    documents[2] = dataclasses.replace(
        documents[2], erp_mappings={"account_code": "4100", "tracking.Channel": "AWS"}
    )
    sink = harness.sink(tax_type="OUTPUT9", tracking=[{"name": "Region", "option": "North"}])

    gaps = sink.preflight(documents)

    assert gaps == [
        f"erp mapping 'account_code' of customer CUST-1 '999': Xero has no account with "
        f"this code; {CHART}",
        f"erp mapping 'account_code' of customer CUST-2 '610': the account 'Sales 610' is "
        f"of class ASSET, not REVENUE; {CHART}",
        f"erp mapping 'account_code' of customer CUST-3 '4100': the account 'Sales 4100' is "
        f"archived; {CHART}",
        f"erp.settings.tax_type 'OUTPUT9': Xero has no tax rate with this tax type; {TAX_RATES}",
        "erp mapping 'item_code' of customer CUST-1 'CLOUD': Xero has no item with this code; "
        "create it (Xero: Business > Products and services) or map another item_code",
        "erp mapping 'tracking.Region' of customer CUST-1 'West': tracking category 'Region' "
        "has no active option 'West' (it has: North, South)",
        "erp mapping 'tracking.Channel' of customer CUST-3 'AWS': Xero has no active tracking "
        "category named 'Channel'",
        "currency EUR of statements NW-2025-0002 is not enabled in Xero (base currency USD): "
        "add it under Settings > Currencies",
    ]
    assert writes(harness) == []
    # Each list was read once, every read counted by the organisation's limiter.
    assert len(harness.xero.calls) == 6
    assert harness.limiter.used() == (6, 6)


def test_the_settings_tracking_option_is_checked_and_named_by_its_category(harness):
    harness.xero.tracking = {"Region": ["South"]}
    sink = harness.sink(tracking=[{"name": "Region", "option": "North"}])

    assert sink.preflight(statements(1)) == [
        "erp.settings.tracking Region 'North': tracking category 'Region' has no active "
        "option 'North' (it has: South)"
    ]


def test_an_enabled_foreign_currency_and_an_existing_item_are_not_gaps(harness):
    harness.xero.currencies.add("EUR")
    harness.xero.items.add("CLOUD")
    document = make_statement(currency="EUR", erp_mappings={"item_code": "CLOUD"})

    assert harness.sink().preflight([document]) == []
    [items] = harness.xero.api_calls("GET", "/Items")
    assert items.query["where"] == ['Code=="CLOUD"']


def test_a_tax_type_not_for_revenue_or_deleted_is_a_gap(harness):
    harness.xero.tax_info["OUTPUT"] = {"CanApplyToRevenue": False}
    harness.xero.tax_info["NONE"] = {"Status": "DELETED"}

    assert harness.sink().preflight(statements(1)) == [
        f"erp.settings.tax_type 'OUTPUT': the tax rate 'Tax OUTPUT' cannot be applied to "
        f"revenue; {TAX_RATES}",
        f"erp.settings.exempt_tax_type 'NONE': the tax rate 'Tax NONE' is deleted; {TAX_RATES}",
    ]


def test_the_taxed_tax_type_is_not_needed_by_statements_without_tax(harness):
    """One untaxed line of 10.00: only the exempt tax type is used."""
    lines = [StatementLine(1, "service", "Support", Decimal("10.00"))]
    document = make_statement(
        lines=lines, subtotal=Decimal("10.00"), tax=Decimal(0), total=Decimal("10.00")
    )

    assert harness.sink(tax_type="GONE").preflight([document]) == []


def test_a_statement_the_sink_could_not_build_is_a_gap(harness):
    """Lines 10.00, tax 0, but a total of 11.00: the push would refuse it."""
    lines = [StatementLine(1, "service", "Support", Decimal("10.00"))]
    document = make_statement(
        lines=lines, subtotal=Decimal("10.00"), tax=Decimal(0), total=Decimal("11.00")
    )

    [gap] = harness.sink().preflight([document])

    assert gap.startswith("statement NW-2025-0042: lines 10.00 plus tax 0 make 10.00")


def test_preflight_of_nothing_calls_nothing(harness):
    assert harness.sink().preflight([]) == []
    assert harness.xero.calls == []


def test_a_read_xero_refuses_raises_a_plugin_error(harness):
    harness.xero.fail(Fault("GET", "/Accounts", status=403, body='{"Title": "Forbidden"}'))

    with pytest.raises(PluginError, match="HTTP 403"):
        harness.sink().preflight(statements(1))


# -- connecting (ConnectableSink) ----------------------------------------------------


def test_token_key_and_authorization_url_are_the_oauth_modules():
    assert XeroSink.token_key(SETTINGS) == oauth.token_key(SETTINGS) == TOKEN_KEY
    assert XeroSink.authorization_url(SETTINGS, "s-1") == oauth.authorization_url(SETTINGS, "s-1")


def test_exchange_code_returns_the_oauth_modules_token_for_the_code():
    redirect = "http://localhost:8765/xero/callback?code=good-code&state=s-1"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        xero = FakeXero(mock)
        before = time.time()
        token = XeroSink.exchange_code(SETTINGS, redirect, "s-1")
    assert token["refresh_token"] == xero.refresh_token
    assert token["access_token"] in xero.access_tokens
    assert isinstance(token["scope"], list)
    assert before + 1800 <= token["expires_at"] <= time.time() + 1800


def test_exchange_code_checks_the_state_it_is_given():
    redirect = "http://localhost:8765/xero/callback?code=good-code&state=evil"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        xero = FakeXero(mock)
        with pytest.raises(PluginError, match="`state`"):
            XeroSink.exchange_code(SETTINGS, redirect, "s-1")
    assert xero.auth_codes == {"good-code"}  # never sent to Xero
