"""Tables piped to a file are never wrapped (issue 20, defect 9).

Off a terminal rich wrapped at 80 columns (or at the width of the terminal stdin was),
cutting amounts in two: ``11,636.`` on one line, ``40`` on the next. Piped output
must keep every row on one line, whatever width the environment claims.
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.core.conftest import build_october, run


@pytest.mark.parametrize("columns", ["80", "40"])
def test_a_wide_table_off_a_terminal_keeps_every_amount_and_row_whole(
    example_config: str, monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    build_october(example_config)
    who = ("--tenant", "acme", "--provider", "aws", "--period", "2026-10")
    data = json.loads(run("--config", example_config, "reconcile", *who, "--json").stdout)
    table = run("--config", example_config, "reconcile", *who).stdout
    lines = table.splitlines()
    assert max(len(line) for line in lines) > int(columns)
    for customer in data["customers"]:
        statement = customer["statement"]
        row = [line for line in lines if f" {customer['customer']} " in line]
        assert len(row) == 1, (customer["customer"], row)  # one line, not wrapped
        total = f"{Decimal(statement['total']):,}"
        assert total in row[0], (total, row[0])
        assert customer["name"] in row[0]
