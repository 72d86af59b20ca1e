"""Amounts, dates and a statement's facts as a printed statement (PDF, HTML) shows them,
formatted without float, so that every renderer prints them alike.

With no locale (documents built before the tenant's locale was recorded, and third
parties' documents) amounts print as ``1,234.50`` and dates as ISO 8601; with one,
babel formats them the way the tenant's country writes them (``£1,234.50`` and
``31 October 2026`` in en_GB, ``1.234,50 €`` in de_DE). babel is imported when a
function needs it, so the core does not depend on it; a renderer that passes a locale
depends on babel itself.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from functools import lru_cache
from typing import Any

from connector.contracts import StatementDocument

log = logging.getLogger(__name__)

#: What a statement's number prints as until approval assigns one.
DRAFT_NUMBER = "DRAFT"


def places(amount: Decimal) -> int:
    """Decimal places the quantized ``amount`` carries (JPY 0, USD 2, BHD 3)."""
    exponent = amount.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def format_amount(amount: Decimal, locale: str | None = None) -> str:
    """``amount`` with thousands separators and exactly its own decimal places.

    Decimal formatting is exact, so ``Decimal("1234567.85")`` prints ``1,234,567.85``
    (``1.234.567,85`` in de_DE); negative zero prints without its sign.
    """
    if amount.is_zero():
        amount = abs(amount)
    if locale is None:
        return f"{amount:,.{places(amount)}f}"
    return _apply("decimal", amount, locale)


def format_money(amount: Decimal, currency: str, locale: str | None = None) -> str:
    """``amount`` with its currency: ``1,234.50 USD`` without a locale, else the locale's
    currency pattern and symbol (``£1,234.50``, ``1.234,50 €``).

    The places are the amount's own (ISO 4217's minor unit, as the statement was built),
    not CLDR's display digits, which differ for some currencies (HUF, IDR, IQD).
    """
    if amount.is_zero():
        amount = abs(amount)
    if locale is None:
        return f"{format_amount(amount)} {currency}"
    return _apply("currency", amount, locale, currency)


@lru_cache(maxsize=256)
def _pattern(kind: str, locale: str, digits: int) -> tuple[Any, Any]:
    """The locale's decimal or currency pattern set to ``digits`` places, and the parsed
    locale: parsing them costs more than formatting, and a statement formats ~100
    amounts in one locale (the patterns are only read once made)."""
    from babel import Locale
    from babel.numbers import parse_pattern

    parsed = Locale.parse(locale)
    formats = (
        parsed.decimal_formats[None] if kind == "decimal" else parsed.currency_formats["standard"]
    )
    pattern = parse_pattern(formats.pattern)
    pattern.frac_prec = (digits, digits)
    return pattern, parsed


def _apply(kind: str, amount: Decimal, locale: str, currency: str | None = None) -> str:
    # The amount's own places, exactly: no rounding to the pattern's digits.
    pattern, parsed = _pattern(kind, locale, places(amount))
    return pattern.apply(amount, parsed, currency=currency, currency_digits=False)


def format_date(day: dt.date, locale: str | None = None) -> str:
    """ISO 8601 without a locale (unambiguous, independent of the process locale);
    else the locale's long date (``31 October 2026``, ``October 31, 2026``)."""
    if locale is None:
        return day.isoformat()
    from babel.dates import format_date as babel_date

    return babel_date(day, format="long", locale=locale)


def period_text(start: dt.date, end: dt.date, locale: str | None = None) -> str:
    """A half-open period ``[start, end)`` as the first and last day it covers."""
    last = end - dt.timedelta(days=1)
    return f"{format_date(start, locale)} to {format_date(last, locale)}"


def format_rate(rate: Decimal) -> str:
    """A tax rate as a percentage without trailing zeros (``0.0825`` -> ``8.25%``)."""
    return f"{format((rate * 100).normalize(), 'f')}%"


def document_locale(document: StatementDocument) -> str | None:
    """The locale the statement is printed in: the document's own, else the usual one
    of its country (CLDR likely subtags: GB -> en_GB, DE -> de_DE); None (plain
    ``1,234.50`` and ISO dates) when neither is known."""
    from babel import Locale, UnknownLocaleError

    if document.locale:
        try:
            return str(Locale.parse(document.locale))
        except (ValueError, UnknownLocaleError):
            # A locale CLDR lacks must not stop a statement going out.
            log.warning("locale %r is unknown to babel; using the country's", document.locale)
    if not document.country:
        return None
    try:
        return str(Locale.parse(f"und_{document.country.upper()}"))
    except (ValueError, UnknownLocaleError):
        return None


def statement_number(document: StatementDocument) -> str:
    """The invoice number, or DRAFT until approval assigns one."""
    return document.number or DRAFT_NUMBER


def statement_facts(document: StatementDocument, locale: str | None) -> list[tuple[str, str]]:
    """Number, dates, period, provider, currency and status, as (label, text); a credit
    note names the invoice it credits where an invoice has its due date."""
    facts = [
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
        facts[2] = ("Credits invoice", credited.number)
        if credited.issue_date:
            facts.insert(3, ("Invoice date", format_date(credited.issue_date, locale)))
    return facts


def credit_reference(document: StatementDocument) -> str | None:
    """``Credit note for ACME-01005, issued 2026-10-06``: the invoice a credit note
    credits; None for an invoice."""
    credited = document.credited_invoice
    if credited is None:
        return None
    locale = document_locale(document)
    issued = f", issued {format_date(credited.issue_date, locale)}" if credited.issue_date else ""
    return f"Credit note for {credited.number}{issued}"
