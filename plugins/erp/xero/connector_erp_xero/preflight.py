"""What the Xero organisation lacks for a push: the sink's ``preflight``.

Reads only (``GET``): the accounts, tax rates, items, tracking categories, currencies
and base currency the statements' invoices would refer to, each list once. Every gap is
returned, one message each, naming where the value was set: ``erp.settings.<key>``, or
``erp mapping '<key>' of customer <id>`` when the customer's ``erp_mappings`` set it.
Contacts are not gaps: a push creates the missing ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from connector.contracts import PluginError, StatementDocument
from connector.plugin_kit.sinks import Use, source_of
from connector_erp_xero.client import SAFE_FILTER_TEXT, XeroClient
from connector_erp_xero.invoices import build_invoice
from connector_erp_xero.settings import (
    TRACKING_PREFIX,
    InvoiceMapping,
    XeroSinkSettings,
    resolve_mapping,
)

# A well-formed ContactID for building invoices that are never sent.
_PLACEHOLDER_CONTACT = "00000000-0000-0000-0000-000000000000"
REVENUE = "REVENUE"
ACTIVE = "ACTIVE"
# What a gap says: the code missing, and how to fix it.
ACCOUNT_MISSING = "Xero has no account with this code"
ACCOUNT_FIX = "use the code of an active revenue account (Xero: Accounting > Chart of accounts)"
TAX_RATE_MISSING = "Xero has no tax rate with this tax type"
TAX_RATE_FIX = (
    "use the tax type of an active sales tax rate (Xero: Accounting > Advanced > Tax rates)"
)
ITEM_MISSING = "Xero has no item with this code"
ITEM_FIX = "create it (Xero: Business > Products and services) or map another item_code"


def find_gaps(
    client: XeroClient, settings: XeroSinkSettings, documents: Sequence[StatementDocument]
) -> list[str]:
    """Every gap between the statements' mappings and the organisation, each once."""
    gaps: dict[str, None] = {}
    uses: dict[str, dict[Use, None]] = {
        "account": {},
        "tax": {},
        "item": {},
        "tracking": {},
    }
    tracking: dict[tuple[str, str], dict[str, None]] = {}
    currencies: dict[str, list[str]] = {}
    for document in documents:
        try:
            mapping = resolve_mapping(settings, document)
        except PluginError as exc:
            gaps[str(exc)] = None
            continue
        try:
            build_invoice(document, mapping, _PLACEHOLDER_CONTACT, settings.status)
        except PluginError as exc:
            gaps[str(exc)] = None
        if not SAFE_FILTER_TEXT.match(mapping.contact_number):
            where = (
                source_of(document, "contact_number")
                if document.erp_mappings.get("contact_number")
                else f"customer id {document.customer_id} (the default contact number)"
            )
            gaps[
                f"{where} {mapping.contact_number!r}: Xero cannot search for a contact number "
                'containing " or \\; map another contact_number'
            ] = None
        _collect(document, mapping, uses, tracking)
        currencies.setdefault(document.currency, []).append(document.number or "")
    if not documents:
        return []
    _check_accounts(client, uses["account"], gaps)
    _check_tax_types(client, uses["tax"], gaps)
    _check_items(client, uses["item"], gaps)
    _check_tracking(client, tracking, gaps)
    _check_currencies(client, currencies, gaps)
    return list(gaps)


def _collect(
    document: StatementDocument,
    mapping: InvoiceMapping,
    uses: dict[str, dict[Use, None]],
    tracking: dict[tuple[str, str], dict[str, None]],
) -> None:
    uses["account"][Use(mapping.account_code, source_of(document, "account_code"))] = None
    # The taxed type only matters for statements carrying tax; the exempt one always
    # (marketplace and credit lines carry it, and every line of an untaxed statement).
    if not document.tax.is_zero():
        uses["tax"][Use(mapping.tax_type, source_of(document, "tax_type"))] = None
    uses["tax"][Use(mapping.exempt_tax_type, source_of(document, "exempt_tax_type"))] = None
    if mapping.item_code:
        uses["item"][Use(mapping.item_code, source_of(document, "item_code"))] = None
    for name, option in mapping.tracking:
        key = f"{TRACKING_PREFIX}{name}"
        where = (
            f"erp mapping '{key}' of customer {document.customer_id}"
            if document.erp_mappings.get(key)
            else f"erp.settings.tracking {name}"
        )
        tracking.setdefault((name, option), {})[where] = None


def _check_accounts(client: XeroClient, uses: dict[Use, None], gaps: dict[str, None]) -> None:
    accounts = {account.code: account for account in client.accounts() if account.code}

    def problem(account: Any) -> str | None:
        if account.status != ACTIVE:
            return f"the account {account.name!r} is {str(account.status).lower()}"
        if account._class != REVENUE:
            return f"the account {account.name!r} is of class {account._class}, not REVENUE"
        return None

    _report(uses, accounts, problem, ACCOUNT_MISSING, ACCOUNT_FIX, gaps)


def _check_tax_types(client: XeroClient, uses: dict[Use, None], gaps: dict[str, None]) -> None:
    rates = {rate.tax_type: rate for rate in client.tax_rates() if rate.tax_type}

    def problem(rate: Any) -> str | None:
        if rate.status != ACTIVE:
            return f"the tax rate {rate.name!r} is {str(rate.status).lower()}"
        if rate.can_apply_to_revenue is False:
            return f"the tax rate {rate.name!r} cannot be applied to revenue"
        return None

    _report(uses, rates, problem, TAX_RATE_MISSING, TAX_RATE_FIX, gaps)


def _check_items(client: XeroClient, uses: dict[Use, None], gaps: dict[str, None]) -> None:
    if not uses:
        return
    known = {item.code: item for item in client.items([use.value for use in uses])}
    _report(uses, known, lambda _item: None, ITEM_MISSING, ITEM_FIX, gaps)


def _report(
    uses: dict[Use, None],
    held: dict[str, Any],
    problem: Callable[[Any], str | None],
    missing: str,
    fix: str,
    gaps: dict[str, None],
) -> None:
    """A gap for each use whose code Xero does not hold (``missing``) or holds with a
    ``problem``, saying how to ``fix`` it."""
    for use in uses:
        found = held.get(use.value)
        why = missing if found is None else problem(found)
        if why is not None:
            gaps[f"{use.source} '{use.value}': {why}; {fix}"] = None


def _check_tracking(
    client: XeroClient,
    uses: dict[tuple[str, str], dict[str, None]],
    gaps: dict[str, None],
) -> None:
    if not uses:
        return
    categories = {
        category.name: category
        for category in client.tracking_categories()
        if category.name and category.status in (None, ACTIVE)
    }
    for (name, option), sources in uses.items():
        category = categories.get(name)
        if category is None:
            problem = f"Xero has no active tracking category named {name!r}"
        else:
            options = [
                choice.name
                for choice in category.options or []
                if choice.name and choice.status in (None, ACTIVE)
            ]
            if option in options:
                continue
            problem = (
                f"tracking category {name!r} has no active option {option!r} "
                f"(it has: {', '.join(options) or 'none'})"
            )
        for source in sources:
            gaps[f"{source} {option!r}: {problem}"] = None


def _check_currencies(
    client: XeroClient, currencies: dict[str, list[str]], gaps: dict[str, None]
) -> None:
    if not currencies:
        return
    base = client.base_currency()
    foreign = {code: numbers for code, numbers in currencies.items() if code != base}
    if not foreign:
        return
    enabled = client.currencies()
    for code, numbers in foreign.items():
        if code not in enabled:
            gaps[
                f"currency {code} of statements {', '.join(numbers)} is not enabled in Xero "
                f"(base currency {base}): add it under Settings > Currencies"
            ] = None
