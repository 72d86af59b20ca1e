"""Unassigned spend as ``statements generate`` and ``demo`` print it.

A build reports every account no customer claims, in full. Printed one note per
account, unrounded, 50 such accounts buried the statements under 150 lines; printed
here, each currency gets its total and its largest accounts, in the currency's minor
unit, and the full list is a flag or a reconciliation away. ``--json`` keeps every
account at full precision.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from rich.console import Console
from rich.text import Text

from connector.domain.money import exact_text, round_money, total

# How many accounts per currency are printed unless every one is asked for.
LARGEST = 5
HEADING = "unassigned spend"

Unassigned = Mapping[tuple[str, str], Decimal]  # (account, currency) -> billed cost


def unassigned_json(unassigned: Unassigned) -> list[dict[str, str]]:
    """Every account, by account and currency, its billed cost as exact text."""
    return [
        {"account": account, "currency": currency, "billed_cost": exact_text(cost)}
        for (account, currency), cost in sorted(unassigned.items())
    ]


def _amount(value: Decimal, currency: str) -> str:
    return f"{round_money(value, currency):,f}"


def unassigned_lines(unassigned: Unassigned, *, show_all: bool, more: str) -> list[str]:
    """Per currency: the total, then its largest accounts (all with ``show_all``), then
    how many are left out and ``more``, which says where the rest are listed."""
    by_currency: dict[str, list[tuple[str, Decimal]]] = {}
    for (account, currency), cost in unassigned.items():
        by_currency.setdefault(currency, []).append((account, cost))
    lines: list[str] = []
    for currency, found in sorted(by_currency.items()):
        found.sort(key=lambda item: (-item[1], item[0]))  # the largest first
        shown = found if show_all else found[:LARGEST]
        count = f"{len(found)} account{'s' if len(found) > 1 else ''}"
        which = "" if len(shown) == len(found) else f", the {len(shown)} largest"
        lines.append(
            f"{HEADING}: {_amount(total(c for _, c in found), currency)} {currency} billed "
            f"to {count} no customer claims{which}:"
        )
        amounts = [_amount(cost, currency) for _, cost in shown]
        width = max(len(account) for account, _ in shown)
        figure = max(len(text) for text in amounts)
        lines += [
            f"  {account:<{width}}  {text:>{figure}} {currency}"
            for (account, _), text in zip(shown, amounts, strict=True)
        ]
        if len(shown) < len(found):
            left = f"  and {len(found) - len(shown)} more"
            lines.append(f"{left}: {more}" if more else left)
    return lines


def print_unassigned(
    console: Console, unassigned: Unassigned, *, fix: str, show_all: bool = False, more: str = ""
) -> None:
    """Print :func:`unassigned_lines`, then ``fix`` (what to do about it); nothing when
    there is no unassigned spend. Printed as given: an account id is data, never
    markup, and a line is never broken inside an amount."""
    if not unassigned:
        return
    for line in [*unassigned_lines(unassigned, show_all=show_all, more=more), fix]:
        text = Text(line)
        if line.startswith(HEADING):
            text.stylize("yellow", 0, len(HEADING))
        console.print(text, highlight=False, soft_wrap=True)
