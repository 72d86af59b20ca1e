"""connector.frozen: objects made through the plain twin are the frozen class's own."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from connector.contracts import StatementLine
from connector.frozen import unfrozen_twin


def test_an_object_made_through_the_twin_equals_one_made_by_init_and_stays_frozen() -> None:
    twin = unfrozen_twin(StatementLine)
    assert twin is not None
    made = object.__new__(twin)
    made.position, made.kind, made.description = 3, "service", "Compute"
    made.amount, made.cost, made.service_category = Decimal("1.10"), Decimal("1"), "Compute"
    made.account_id, made.quantity = None, Decimal(1)
    made.__class__ = StatementLine
    expected = StatementLine(3, "service", "Compute", Decimal("1.10"), Decimal("1"), "Compute")
    assert type(made) is StatementLine
    assert made == expected and hash(made) == hash(expected) and repr(made) == repr(expected)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.amount = Decimal(0)


@dataclasses.dataclass(frozen=True)
class WithoutSlots:
    a: int


@dataclasses.dataclass(frozen=True, slots=True)
class WithPostInit:
    a: int

    def __post_init__(self) -> None:
        if self.a < 0:
            raise ValueError("negative")


class NotADataclass:
    __slots__ = ("a",)


@pytest.mark.parametrize("cls", [WithoutSlots, WithPostInit, NotADataclass])
def test_classes_whose_init_does_more_or_other_get_no_twin(cls: type) -> None:
    assert unfrozen_twin(cls) is None
