"""connector.plugin_kit.charge_types: a provider's charge types, an unknown one warned of once."""

from __future__ import annotations

import logging

import pytest

from connector.contracts import ChargeCategory
from connector.plugin_kit.charge_types import CORRECTION, UNKNOWN, ChargeTypes

LOG = logging.getLogger("tests.kit.charge_types")
TABLE = {"usage": (ChargeCategory.USAGE, None), "refund": (ChargeCategory.CREDIT, CORRECTION)}


def test_known_types_map_by_key_and_unknown_ones_are_adjustments(caplog) -> None:
    types = ChargeTypes("Foo ChargeType", TABLE, LOG, key=str.casefold)
    assert types.category("Refund") == (ChargeCategory.CREDIT, CORRECTION)
    with caplog.at_level(logging.WARNING, logger=LOG.name):
        assert types.category("Brand-New") == UNKNOWN == (ChargeCategory.ADJUSTMENT, None)
    assert [r.getMessage() for r in caplog.records] == [
        "Foo ChargeType 'Brand-New' is unknown to this version; it is treated as an "
        "Adjustment (not priced, shown in reconciliation)"
    ]


@pytest.mark.parametrize(("first", "second", "warnings"), [("New", "New", 1), ("New", "new", 2)])
def test_an_unknown_type_is_warned_of_once(caplog, first, second, warnings) -> None:
    types = ChargeTypes("Foo ChargeType", TABLE, LOG, effect="shown in reconciliation")
    with caplog.at_level(logging.WARNING, logger=LOG.name):
        types.category(first)
        types.category(second)
        types.unknown("NEW", warn_key="New")
    assert len(caplog.records) == warnings
    assert caplog.records[0].getMessage().endswith("(shown in reconciliation)")


def test_a_table_written_by_category_maps_each_type_and_refunds_to_corrections() -> None:
    types = ChargeTypes.by_category(
        "Foo ChargeType",
        {ChargeCategory.USAGE: ("usage", "metered"), ChargeCategory.TAX: ("tax",)},
        LOG,
        corrections=("refund",),
        key=str.casefold,
    )
    assert types.table == {
        "usage": (ChargeCategory.USAGE, None),
        "metered": (ChargeCategory.USAGE, None),
        "tax": (ChargeCategory.TAX, None),
        "refund": (ChargeCategory.CREDIT, CORRECTION),
    }
    assert types.category("Metered") == (ChargeCategory.USAGE, None)
