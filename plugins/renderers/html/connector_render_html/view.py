"""What the statement template is given: the document and its printed values.

Everything is plain text ready to print (amounts and dates already formatted), so a
tenant's own template needs no Python formatting of its own. The variables are listed
in the README; ``document`` itself is passed too, for anything they do not cover.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connector.contracts import Party, StatementDocument
from connector.plugin_kit.printed import exemption_note, table_lines, totals_rows
from connector_render_html.money import (
    format_amount,
    format_date,
    format_money,
    format_rate,
    locale_of,
    period_text,
)

log = logging.getLogger(__name__)

DRAFT_STATUS = "draft"
DRAFT_NUMBER = "DRAFT"
_IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}


@dataclass(frozen=True, slots=True)
class PrintedParty:
    name: str
    details: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PrintedLine:
    position: int
    kind: str
    description: str
    account: str
    amount: str


def logo_data_uri(path: Path | None) -> str | None:
    """The logo embedded as a ``data:`` URI, so the page needs no other file.

    A missing or unknown-type logo is left out: it must not stop a statement going out.
    """
    if path is None:
        return None
    media_type = _IMAGE_TYPES.get(Path(path).suffix.lower())
    try:
        data = Path(path).read_bytes()
    except OSError:
        data = None
    if media_type is None or data is None:
        log.warning("reseller logo %s is missing or not an image; rendering without it", path)
        return None
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def printed_party(party: Party) -> PrintedParty:
    """Name, then address lines, e-mail, phone and tax ID as present."""
    details = [*party.address, *(value for value in (party.email, party.phone) if value)]
    if party.tax_id:
        details.append(f"Tax ID: {party.tax_id}")
    return PrintedParty(party.name, tuple(details))


def document_locale(document: StatementDocument) -> str | None:
    """The locale the statement is printed in: its own, else its country's usual one."""
    return locale_of(document.locale, document.country)


def statement_number(document: StatementDocument) -> str:
    """The invoice number, or DRAFT until approval assigns one."""
    return document.number or DRAFT_NUMBER


def facts(document: StatementDocument) -> list[tuple[str, str]]:
    """Number, dates, period, currency and status; payment method and custom fields
    only when the tenant's invoice options turned them on (the core leaves them empty).
    """
    locale = document_locale(document)
    rows = [
        ("Statement no.", statement_number(document)),
        ("Issue date", format_date(document.issue_date, locale)),
        ("Due date", format_date(document.due_date, locale)),
        ("Period", period_text(document.period.start, document.period.end, locale)),
        ("Provider", document.provider_name or document.provider),
        ("Currency", document.currency),
        ("Status", document.status),
    ]
    credited = document.credited_invoice
    if credited is not None:
        # A credit note owes nothing: the invoice it credits takes the due date's place.
        rows[2] = ("Credits invoice", credited.number)
        if credited.issue_date:
            rows.insert(3, ("Invoice date", format_date(credited.issue_date, locale)))
    if document.payment_method:
        rows.append(("Payment method", document.payment_method))
    rows.extend(document.custom_fields.items())
    return rows


def credit_reference(document: StatementDocument) -> str | None:
    """``Credit note for ACME-01005, issued 2026-10-06``: the invoice a credit note
    credits; None for an invoice."""
    credited = document.credited_invoice
    if credited is None:
        return None
    locale = document_locale(document)
    issued = f", issued {format_date(credited.issue_date, locale)}" if credited.issue_date else ""
    return f"Credit note for {credited.number}{issued}"


def heading(document: StatementDocument) -> str:
    """What the document is: ``Credit note`` for a credit note, else ``Statement``."""
    return "Credit note" if document.credited_invoice is not None else "Statement"


def tax_label(document: StatementDocument) -> str:
    """``Tax``, with the tax's name and rate when the statement carries them."""
    named = [part for part in (document.tax_name,) if part]
    if document.tax_rate is not None:
        named.append(format_rate(document.tax_rate))
    return f"Tax ({' '.join(named)})" if named else "Tax"


def exchange_note(document: StatementDocument) -> str | None:
    """How the provider's billing currency was converted, when it was."""
    billing = document.billing_currency
    if not billing or billing.upper() == document.currency.upper():
        return None
    rate = format(document.exchange_rate.normalize(), "f")
    return f"Amounts converted from {billing} at 1 {billing} = {rate} {document.currency}."


def template_context(document: StatementDocument) -> dict[str, Any]:
    """The variables the statement template renders (see the README for each)."""
    lines = table_lines(document)
    locale = document_locale(document)
    number = statement_number(document)
    notes = document.notes.strip() if document.notes else ""
    return {
        "document": document,
        "number": number,
        "is_draft": document.status.strip().lower() == DRAFT_STATUS,
        "title": f"{heading(document)} {number}",
        "heading": heading(document),
        "credit_reference": credit_reference(document),
        "logo": logo_data_uri(document.reseller.logo_path),
        "reseller": printed_party(document.reseller),
        "customer": printed_party(document.customer),
        "customer_id": document.customer_id,
        "facts": facts(document),
        "currency": document.currency,
        "with_account": any(line.account_id for line in lines),
        "lines": [
            PrintedLine(
                line.position,
                line.kind,
                line.description,
                line.account_id or "",
                format_amount(line.amount, locale),
            )
            for line in lines
        ],
        # Charges, credits, tax and total: they add up on their own.
        "totals": [
            (
                row.label,
                format_money(row.amount, document.currency, locale)
                if locale
                else format_amount(row.amount),
            )
            for row in totals_rows(document)
        ],
        "total": format_amount(document.total, locale),
        "amount_due": format_money(document.total, document.currency, locale),
        "exemption_note": exemption_note(document),
        # CSS @page names: "A4" or "letter".
        "page_size": "A4" if document.page_size.upper() == "A4" else "letter",
        "due_date": format_date(document.due_date, locale),
        "exchange_note": exchange_note(document),
        "notes": notes.splitlines() if notes else [],
        "footer": f"{document.reseller.name} · {heading(document)} {number} · "
        f"{document.customer.name}",
    }
