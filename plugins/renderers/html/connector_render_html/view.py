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
from connector.plugin_kit.printed_text import (
    credit_reference,
    document_locale,
    format_amount,
    format_date,
    format_money,
    format_rate,
    statement_facts,
    statement_number,
)

log = logging.getLogger(__name__)

DRAFT_STATUS = "draft"
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


def facts(document: StatementDocument) -> list[tuple[str, str]]:
    """Number, dates, period, currency and status; payment method and custom fields
    only when the tenant's invoice options turned them on (the core leaves them empty).
    """
    rows = statement_facts(document, document_locale(document))
    if document.payment_method:
        rows.append(("Payment method", document.payment_method))
    rows.extend(document.custom_fields.items())
    return rows


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
