"""How ``connector`` commands print: consoles that never cut a line, amounts, JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import click
from rich.console import Console, ConsoleDimensions
from rich.table import Table

from connector.domain.money import exact_text, tidy

# Wide enough that no table or line is ever cut off a terminal.
UNWRAPPED_WIDTH = 100_000


class OutputConsole(Console):
    """A rich console that never wraps when its output is not a terminal.

    Piped to a file, a pager or a CI log, rich would wrap at 80 columns (or at the
    width COLUMNS or the terminal on stdin gives), cutting numbers in two (``11,636.`` /
    ``40``); like git and psql, lines are then as long as they need to be.
    """

    @property
    def size(self) -> ConsoleDimensions:
        size = Console.size.fget(self)  # type: ignore[attr-defined]
        if self.is_terminal:
            return size
        # Whatever COLUMNS says: it describes a terminal this output does not go to.
        return ConsoleDimensions(UNWRAPPED_WIDTH, size.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


console = OutputConsole()
err_console = OutputConsole(stderr=True)


def money(value: Decimal, currency: str | None = None) -> str:
    """An amount for a table: in the currency's minor unit when that loses nothing (to
    the cent when no currency is given), full-precision sums to 4 places for reading.

    The same text on both engines: PostgreSQL's padding (0.270000000000) never shows.
    """
    value = tidy(value, currency) if currency else Decimal(exact_text(value))
    if value.as_tuple().exponent < -4:
        value = value.quantize(Decimal("0.0001"))
    return f"{value:,f}"


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def blank_if_none(value: object) -> str:
    return "" if value is None else str(value)


def to_the_minute(value: Any) -> str:
    """A timestamp to the minute, or blank."""
    return "" if value is None else f"{value:%Y-%m-%d %H:%M}"


@dataclass(frozen=True, slots=True)
class Column:
    """One field of a listing: its key in ``--json``, its table heading, the attribute
    of an item it shows (``key`` when not given) and how a table cell shows it."""

    key: str
    heading: str
    attribute: str | None = None
    cell: Callable[[Any], str] = blank_if_none
    whole: bool = False  # never folded: an id or name copied into other commands


def print_listing(items: Iterable[object], columns: Sequence[Column], as_json: bool) -> None:
    """``items`` as a JSON list of objects (the values as they are) or as a table."""
    rows = [[getattr(item, c.attribute or c.key) for c in columns] for item in items]
    if as_json:
        print_json([{c.key: v for c, v in zip(columns, row, strict=True)} for row in rows])
        return
    table = Table()
    for column in columns:
        table.add_column(column.heading, no_wrap=column.whole)
    for row in rows:
        table.add_row(*(c.cell(v) for c, v in zip(columns, row, strict=True)))
    console.print(table)
