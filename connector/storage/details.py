"""A statement's detail rows, stored as one snapshot with the statement.

Detail rows (account × service × usage type at full precision) are written once when
a statement is built, never change, and are always read whole, one statement at a
time: for the detailed CSV, reconciliation, and reports "as billed". Storing them as
one text per statement instead of a row each made building a large period about a
quarter faster (an insert per detail row cost more than the billing itself), and keeps
them exact: every amount is its decimal string, read back as Decimal.

Two layouts are read:

* **2** (written): ``"2"``, then each row after a record separator (U+001E), its ten
  fields joined by a unit separator (U+001F); ``is_marketplace`` is ``1`` or empty.
  Joining strings costs a third of encoding JSON, and a build writes millions of rows.
* **1**: a JSON array ``[1, [[field, ...], ...]]``. Written instead whenever a text
  field holds one of the two separators (no real account, service or SKU does).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal

from connector.contracts import DetailRow

JSON_LAYOUT = 1
JOINED_LAYOUT = 2
RECORD = "\x1e"
UNIT = "\x1f"
FIELDS = len(DetailRow._fields)


def write_details(rows: Sequence[DetailRow]) -> str:
    """``rows`` as the stored text, order kept."""
    text = RECORD.join(
        [
            str(JOINED_LAYOUT),
            *[
                UNIT.join((a, c, n, s, t, "1" if mp else "", str(q), str(cost), str(p), str(r)))
                for a, c, n, s, t, mp, q, cost, p, r in rows
            ],
        ]
    )
    # Each row adds one record separator and nine unit separators: more means a field
    # held one, and the text would not split back into the same rows.
    if text.count(RECORD) != len(rows) or text.count(UNIT) != (FIELDS - 1) * len(rows):
        return _write_json(rows)
    return text


def _write_json(rows: Sequence[DetailRow]) -> str:
    return json.dumps(
        [
            JSON_LAYOUT,
            [
                [a, c, n, s, t, mp, str(q), str(cost), str(p), str(r)]
                for a, c, n, s, t, mp, q, cost, p, r in rows
            ],
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )


def read_details(text: str | None) -> list[DetailRow]:
    """The detail rows stored as ``text`` (none for ``None``: a statement without any)."""
    if not text:
        return []
    if text.startswith("["):
        layout, rows = json.loads(text)
        if layout != JSON_LAYOUT:
            raise ValueError(f"statement details are stored in layout {layout}, not 1 or 2")
    else:
        layout, *records = text.split(RECORD)
        if layout != str(JOINED_LAYOUT):
            raise ValueError(f"statement details are stored in layout {layout!r}, not 1 or 2")
        rows = [record.split(UNIT) for record in records]
    return [
        DetailRow(a, c, n, s, t, bool(mp), Decimal(q), Decimal(cost), Decimal(p), Decimal(r))
        for a, c, n, s, t, mp, q, cost, p, r in rows
    ]
