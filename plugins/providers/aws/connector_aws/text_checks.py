"""Checking the text a CUR puts into charges: what storage cannot hold is refused with its
file, line and column; an over-long product or seller name is cut with a warning.

Runs on the distinct values of a period (its contexts and usage accounts, see
``CurAggregate.charge_rows``), not per row; only a value to report is looked up in the
files, by re-reading them (:func:`connector_aws.diagnose.first_row`).
"""

from __future__ import annotations

from collections.abc import Sequence

from connector.contracts import checked_text
from connector_aws import diagnose
from connector_aws.columns import Header

# Position in a context tuple (see query.CONTEXT) -> (charge field, column alias).
CONTEXT_TEXT = {
    0: ("billing_account_id", "payer_account"),
    1: ("line_item_type", "line_item_type"),
    2: ("service_name", "product_code"),
    3: ("service_category", "product_name"),
    4: ("sku", "usage_type"),
    6: ("publisher", "legal_entity"),
    8: ("invoice_id", "invoice_id"),
}


def _where(headers: Sequence[Header], alias: str, raw: str) -> str:
    found = diagnose.first_row(headers, lambda h, r: diagnose.value(h, r, alias) == raw)
    if found is None:  # e.g. a CUR 2.0 product name, read from the product map
        names = ", ".join(h.shown for h in headers)
        return f"{names}: column {headers[0].column_name(alias)} of a row"
    header, line, _ = found
    return f"{header.shown}: {header.where(line)}, column {header.column_name(alias)}"


def checked_contexts(
    headers: Sequence[Header], contexts: Sequence[tuple], accounts: Sequence[str]
) -> tuple[list[tuple], list[str]]:
    """``contexts`` and ``accounts`` with their text checked (raises SourceDataError)."""
    checked = []
    for context in contexts:
        values = list(context)
        for position, (field_name, alias) in CONTEXT_TEXT.items():
            raw = values[position]
            if isinstance(raw, str) and raw:
                values[position] = checked_text(
                    field_name, raw, lambda a=alias, r=raw: _where(headers, a, r)
                )
        checked.append(tuple(values))
    checked_accounts = [
        checked_text(
            "sub_account_id", account, lambda a=account: _where(headers, "usage_account", a)
        )
        if account
        else account
        for account in accounts
    ]
    return checked, checked_accounts
