"""JSON text in which every Decimal is written as the exact number it holds.

The standard library cannot write a Decimal as a JSON number, and python-quickbooks'
``to_json`` turns each one into a JSON *string* (its ``json_filter`` replaces the
encoder's ``default``). QuickBooks reads amounts as numbers, and a float on the way
would drift (``0.1 + 0.2``), so payloads are written by this small writer instead.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any


def number(value: Decimal) -> str:
    """Fixed-point text of a finite Decimal, never ``-0.00`` and never an exponent."""
    if not value.is_finite():
        raise ValueError(f"cannot send {value} to QuickBooks: amounts must be finite")
    return format(abs(value) if value.is_zero() else value, "f")


def dumps(value: Any) -> str:
    """Compact JSON of dicts, lists, str, bool, int, Decimal, dates and None.

    A float raises TypeError: in a money path it is a bug, not something to round.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return number(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        raise TypeError(f"float {value!r} in a QuickBooks payload; amounts must be Decimal")
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.date):
        return json.dumps(value.isoformat())
    if isinstance(value, Mapping):
        items = (
            f"{json.dumps(str(key), ensure_ascii=False)}:{dumps(v)}" for key, v in value.items()
        )
        return "{" + ",".join(items) + "}"
    if isinstance(value, Sequence):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} into a QuickBooks payload")


def parse_amount(value: Any) -> Decimal | None:
    """An amount from a QuickBooks answer as a Decimal (None when absent).

    The client parses answers with Decimals; a float (from a client that does not) is
    read as its shortest repr, the decimal QuickBooks wrote.
    """
    if value is None:
        return None
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))
