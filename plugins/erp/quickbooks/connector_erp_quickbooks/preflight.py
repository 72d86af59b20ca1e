"""What the QuickBooks company lacks for a push: the sink's ``preflight``.

Only queries (reads): the items, tax codes (a US company's one transaction code, or
the lines' codes elsewhere), tax rates (outside the US), terms and mapped customers the
statements' invoices would refer to, by id, inactive ones included so that "inactive"
can be told from "missing"; and the company's currency preferences. A tax code gap
lists the company's active tax codes.
Every gap is returned, one message each, naming where the value was set:
``erp.settings.<key>``, or ``erp mapping '<key>' of customer <id>`` when the customer's
``erp_mappings`` set it. Customers found or created by name are not gaps: a push
creates the missing ones. A statement the push would refuse to build (a missing tax
code, an unknown exchange rate) is a gap too, with the push's own message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from quickbooks.utils import build_choose_clause

from connector.contracts import PluginError, StatementDocument
from connector.plugin_kit.sinks import Use, source_of
from connector_erp_quickbooks.payloads import (
    INVOICE,
    US_NON_TAXABLE,
    US_TAXABLE,
    entity_of,
    invoice_lines,
    invoice_payload,
)
from connector_erp_quickbooks.payments import PER_QUERY
from connector_erp_quickbooks.settings import InvoiceMapping, QuickBooksSettings, resolve_mapping
from connector_erp_quickbooks.transport import QuickBooksClient

#: What each referenced entity is called and where a person fixes it in QuickBooks.
ENTITIES = {
    "Item": ("product/service", "Sales > Products and services"),
    "TaxCode": ("tax code", "Taxes > Sales tax settings"),
    "TaxRate": ("tax rate", "Taxes > Sales tax settings"),
    "Term": ("payment terms", "Settings > All lists > Terms"),
    "Customer": ("customer", "Sales > Customers"),
}
US_LINE_CODES = (US_TAXABLE, US_NON_TAXABLE)


def find_gaps(
    client: QuickBooksClient, settings: QuickBooksSettings, documents: Sequence[StatementDocument]
) -> list[str]:
    """Every gap between the statements' mappings and the company, each once."""
    if not documents:
        return []
    gaps: dict[str, None] = {}
    uses: dict[str, dict[Use, None]] = {entity: {} for entity in ENTITIES}
    currencies: dict[str, list[str]] = {}
    for document in documents:
        mapping = resolve_mapping(settings, document)
        payload: dict[str, Any] | None = None
        try:
            payload = invoice_payload(document, mapping, settings)
        except PluginError as exc:
            gaps[str(exc)] = None
        _collect(document, mapping, settings, payload, uses)
        currencies.setdefault(document.currency, []).append(document.number or "")
    for entity, wanted in uses.items():
        _check_refs(client, settings, entity, wanted, gaps)
    _check_currencies(client, settings, currencies, gaps)
    return list(gaps)


def _collect(
    document: StatementDocument,
    mapping: InvoiceMapping,
    settings: QuickBooksSettings,
    payload: dict[str, Any] | None,
    uses: dict[str, dict[Use, None]],
) -> None:
    for kind in sorted({line.kind for line in invoice_lines(document)}):
        if kind in mapping.item_refs:
            where = source_of(document, f"item_ref.{kind}", f"item_refs.{kind}")
        else:
            where = source_of(document, "item_ref")
        uses["Item"][Use(mapping.item_for(kind), where)] = None
    if settings.us_company:
        # A US invoice carries one transaction tax code (TxnTaxDetail.TxnTaxCodeRef, from
        # tax_code) when it has tax; its lines carry TAX/NON, which are not list ids.
        detail = (payload or {}).get("TxnTaxDetail", {})
        taxed = detail.get("TxnTaxCodeRef") if payload is not None else document.tax != 0
        if mapping.tax_code and taxed:
            uses["TaxCode"][Use(mapping.tax_code, source_of(document, "tax_code"))] = None
    else:
        # The codes the lines carry; all the mapped ones when the payload could not be built.
        lines = (payload or {}).get("Line", [])
        used = {line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in lines}
        for key in ("tax_code", "exempt_tax_code"):
            value = getattr(mapping, key)
            if value and (payload is None or value in used):
                uses["TaxCode"][Use(value, source_of(document, key))] = None
        tax_lines = (payload or {}).get("TxnTaxDetail", {}).get("TaxLine")
        if mapping.tax_rate_ref and (payload is None or tax_lines):
            uses["TaxRate"][Use(mapping.tax_rate_ref, source_of(document, "tax_rate_ref"))] = None
    if mapping.terms_ref and entity_of(document) == INVOICE:
        uses["Term"][Use(mapping.terms_ref, source_of(document, "terms_ref"))] = None
    if mapping.customer_ref:
        uses["Customer"][Use(mapping.customer_ref, source_of(document, "customer_ref"))] = None


def _check_refs(
    client: QuickBooksClient,
    settings: QuickBooksSettings,
    entity: str,
    uses: dict[Use, None],
    gaps: dict[str, None],
) -> None:
    """Each used id of ``entity`` must exist and be active; a tax code gap also names
    the codes the company has, so the fix needs no trip to QuickBooks."""
    if not uses:
        return
    ids = sorted({use.value for use in uses})
    active: dict[str, bool] = {}
    for start in range(0, len(ids), PER_QUERY):
        choose = build_choose_clause(ids[start : start + PER_QUERY], "Id")
        answer = client.query(
            f"select * from {entity} where Active in (true, false) and {choose} MAXRESULTS 1000"
        )
        for record in answer.get("QueryResponse", {}).get(entity, []):
            active[str(record.get("Id"))] = record.get("Active", True) is not False
    what, where = ENTITIES[entity]
    problems: dict[Use, str] = {}
    for use in uses:
        if use.value not in active:
            problems[use] = f"QuickBooks has no {what} with id {use.value}"
        elif not active[use.value]:
            problems[use] = f"the {what} with id {use.value} is inactive in QuickBooks"
    if problems and entity == "TaxCode":
        valid = _active_tax_codes(client, settings)
        listed = (
            f"the company's active tax codes: {', '.join(valid)}"
            if valid
            else "the company has no active tax code"
        )
        problems = {use: f"{problem} ({listed})" for use, problem in problems.items()}
    for use, problem in problems.items():
        gaps[f"{use.source} '{use.value}': {problem}; see {where}"] = None


def _active_tax_codes(client: QuickBooksClient, settings: QuickBooksSettings) -> list[str]:
    """The company's active tax codes as ``id (name)``, by id."""
    answer = client.query("select * from TaxCode where Active = true MAXRESULTS 1000")
    codes = []
    for record in answer.get("QueryResponse", {}).get("TaxCode", []):
        code = str(record.get("Id"))
        # TAX and NON are a US company's line codes, never a transaction's tax code.
        if settings.us_company and code in US_LINE_CODES:
            continue
        name = record.get("Name")
        codes.append((code, f"{code} ({name})" if name and name != code else code))
    return [text for _code, text in sorted(codes)]


def _check_currencies(
    client: QuickBooksClient,
    settings: QuickBooksSettings,
    currencies: dict[str, list[str]],
    gaps: dict[str, None],
) -> None:
    answer = client.query("select * from Preferences")
    found = answer.get("QueryResponse", {}).get("Preferences") or [{}]
    prefs = found[0].get("CurrencyPrefs") or {}
    home = (prefs.get("HomeCurrency") or {}).get("value") or settings.home_currency
    if home != settings.home_currency:
        gaps[
            f"erp.settings.home_currency '{settings.home_currency}': the QuickBooks company's "
            f"home currency is {home}; set home_currency: {home}"
        ] = None
    foreign = {code: numbers for code, numbers in currencies.items() if code != home}
    if not foreign:
        return
    if not prefs.get("MultiCurrencyEnabled"):
        for code, numbers in foreign.items():
            gaps[
                f"currency {code} of statements {', '.join(numbers)}: multicurrency is off in "
                f"the QuickBooks company (home currency {home}); turn it on under Settings > "
                f"Account and settings > Advanced > Currency and add {code}"
            ] = None
        return
    answer = client.query("select * from CompanyCurrency MAXRESULTS 1000")
    enabled = {
        str(record.get("Code"))
        for record in answer.get("QueryResponse", {}).get("CompanyCurrency", [])
        if record.get("Active", True) is not False
    }
    for code, numbers in foreign.items():
        if code not in enabled:
            gaps[
                f"currency {code} of statements {', '.join(numbers)} is not in the QuickBooks "
                f"company's currency list (home currency {home}); add it under Settings > "
                "Currencies"
            ] = None
