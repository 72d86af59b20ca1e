"""Invoice numbers from the tenant's format."""

from __future__ import annotations

# QuickBooks Online's DocNumber holds at most 21 characters; Xero's is longer.
MAX_NUMBER_LENGTH = 21


def format_invoice_number(fmt: str, number: int) -> str:
    """``ACME-{number:05d}`` with 1001 -> ``ACME-01001``; too long for an ERP is an error."""
    text = fmt.format(number=number)
    if len(text) > MAX_NUMBER_LENGTH:
        raise ValueError(
            f"invoice number {text!r} from format {fmt!r} has {len(text)} characters; "
            f"QuickBooks Online allows at most {MAX_NUMBER_LENGTH}: shorten "
            "invoice_options.invoice_number_format"
        )
    return text
