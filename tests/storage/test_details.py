"""Detail snapshots: written joined (layout 2), read back exactly; JSON (layout 1) still read."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connector.contracts import DetailRow
from connector.storage.details import read_details, write_details

ROWS = [
    DetailRow("111111111111", "Compute", "Amazon EC2", "BoxUsage", "Usage", False,
              Decimal("3.50"), Decimal("0.123456789012"), Decimal("1.15E-10"), Decimal("0.14")),
    DetailRow("111111111111", "Threat Manager", "Threat Manager", "", "Usage", True,
              Decimal("0"), Decimal("-12.5000000000"), Decimal("-12.5000000000"),
              Decimal("-12.50")),
]  # fmt: skip


def test_rows_are_written_joined_and_read_back_exactly() -> None:
    text = write_details(ROWS)
    assert text.startswith("2\x1e") and "[" not in text
    back = read_details(text)
    assert back == ROWS
    # Same digits, not only the same values: 3.50 stays 3.50, 1.15E-10 stays exact.
    assert [str(v) for v in back[0][6:]] == ["3.50", "0.123456789012", "1.15E-10", "0.14"]
    assert back[1].is_marketplace is True and back[0].is_marketplace is False


def test_a_field_holding_a_separator_is_written_as_json_and_read_back() -> None:
    odd = ROWS[0]._replace(sku="Box\x1fUsage", service_name="EC2\x1e")
    text = write_details([odd, ROWS[1]])
    assert text.startswith("[1,")
    assert read_details(text) == [odd, ROWS[1]]


def test_json_snapshots_of_earlier_builds_are_still_read() -> None:
    text = (
        '[1,[["111111111111","Compute","Amazon EC2","BoxUsage","Usage",false,'
        '"3.50","0.123456789012","1.15E-10","0.14"]]]'
    )
    assert read_details(text) == ROWS[:1]


def test_no_rows_and_no_snapshot_read_as_none() -> None:
    assert read_details(write_details([])) == []
    assert read_details(None) == []


@pytest.mark.parametrize("text", ["[3,[]]", "3\x1ea\x1fb"])
def test_an_unknown_layout_is_refused_by_name(text: str) -> None:
    with pytest.raises(ValueError, match="layout .*3.*not 1 or 2"):
        read_details(text)
