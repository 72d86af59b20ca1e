"""A statement's detail rows, stored as one snapshot with the statement.

Detail rows (account × service × usage type at full precision) are written once when
a statement is built, never change, and are always read whole, one statement at a
time: for the detailed CSV, reconciliation, and reports "as billed". Storing them as
one JSON document per statement instead of a row each made building a large period
about a quarter faster (an insert per detail row cost more than the billing itself),
and keeps them exact: every amount is its decimal string, read back as Decimal.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal

from connector.contracts import DetailRow

# Bump when the layout changes; read_details refuses a version it does not know.
VERSION = 1


def write_details(rows: Sequence[DetailRow]) -> str:
    """``rows`` as the stored JSON text (separators without spaces, order kept)."""
    return json.dumps(
        [
            VERSION,
            [
                [
                    d.account_id,
                    d.service_category,
                    d.service_name,
                    d.sku,
                    d.line_item_type,
                    d.is_marketplace,
                    str(d.quantity),
                    str(d.cost),
                    str(d.price),
                    str(d.price_rounded),
                ]
                for d in rows
            ],
        ],  # fmt: skip
        separators=(",", ":"),
        ensure_ascii=False,
    )


def read_details(text: str | None) -> list[DetailRow]:
    """The detail rows stored as ``text`` (none for ``None``: a statement without any)."""
    if not text:
        return []
    version, rows = json.loads(text)
    if version != VERSION:
        raise ValueError(f"statement details are stored in layout {version}, not {VERSION}")
    return [
        DetailRow(a, c, n, s, t, mp, Decimal(q), Decimal(cost), Decimal(p), Decimal(r))
        for a, c, n, s, t, mp, q, cost, p, r in rows
    ]
