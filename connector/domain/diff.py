"""What changed between two revisions of a statement, line by line."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class LineChange:
    """One line whose amount differs; None where the line is missing on that side."""

    description: str
    before: Decimal | None
    after: Decimal | None

    @property
    def delta(self) -> Decimal:
        return (self.after or ZERO) - (self.before or ZERO)


def _by_description(lines: Iterable[tuple[str, Decimal]]) -> dict[str, Decimal]:
    amounts: dict[str, Decimal] = {}
    for description, amount in lines:
        amounts[description] = amounts.get(description, ZERO) + amount
    return amounts


def diff_lines(
    before: Iterable[tuple[str, Decimal]], after: Iterable[tuple[str, Decimal]]
) -> list[LineChange]:
    """Lines added, removed or changed in amount, in description order."""
    old, new = _by_description(before), _by_description(after)
    return [
        LineChange(description, old.get(description), new.get(description))
        for description in sorted(old.keys() | new.keys())
        if old.get(description) != new.get(description)
    ]
