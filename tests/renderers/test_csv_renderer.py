"""The csv renderer: the customer CSV and the detailed CSV of a statement."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from importlib.metadata import entry_points

import pytest
from connector_render_csv.plugin import CsvRenderer
from connector_render_csv.tables import DETAIL_HEADER, STATEMENT_HEADER

from connector.contracts import PluginError, StatementLine
from tests.factories import make_draft, make_statement


def read(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def render(document, fmt: str) -> bytes:
    return CsvRenderer().render(document, fmt)


def test_customer_csv_has_the_header_and_one_row_per_line_in_position_order():
    document = make_statement()
    data = render(document, "csv")
    assert data.decode().splitlines()[0] == ",".join(STATEMENT_HEADER)
    rows = read(data)
    assert [row["position"] for row in rows] == [str(line.position) for line in document.lines]
    assert [row["description"] for row in rows] == [line.description for line in document.lines]
    first = rows[0]
    assert first["invoice_number"] == "NW-2025-0042"
    assert first["customer_name"] == "Contoso Analytics & Co."
    assert (first["period_start"], first["period_end"]) == ("2025-03-01", "2025-03-31")
    assert first["currency"] == "USD"


def test_customer_csv_amounts_add_up_to_the_statement_total():
    document = make_statement()
    rows = read(render(document, "csv"))
    assert sum(Decimal(row["amount"]) for row in rows) == document.total
    kinds = {row["kind"] for row in rows}
    assert {"service", "marketplace", "credit", "tax", "rounding"} <= kinds


def test_customer_csv_keeps_the_zero_marketplace_line_and_signed_amounts():
    rows = read(render(make_statement(), "csv"))
    by_kind = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(row["amount"])
    assert "0.00" in by_kind["marketplace"]
    assert by_kind["credit"] == ["-50.00"]
    assert by_kind["rounding"] == ["-0.01"]


def test_amounts_are_written_with_exactly_the_currency_places():
    lines = [
        StatementLine(1, "service", "Compute", Decimal("1234")),
        StatementLine(2, "service", "Storage", Decimal("-0")),
    ]
    yen = make_statement(currency="JPY", lines=lines, total=Decimal("1234"))
    assert [row["amount"] for row in read(render(yen, "csv"))] == ["1234", "0"]
    dinar = make_statement(lines=[StatementLine(1, "service", "Compute", Decimal("12.300"))])
    assert read(render(dinar, "csv"))[0]["amount"] == "12.300"


def test_draft_csv_says_draft_where_the_number_goes():
    rows = read(render(make_draft(), "csv"))
    assert {row["invoice_number"] for row in rows} == {"DRAFT"}


def test_detailed_csv_has_one_row_per_detail_at_full_precision():
    document = make_statement()
    data = render(document, "detailed-csv")
    assert data.decode().splitlines()[0] == ",".join(DETAIL_HEADER)
    rows = read(data)
    assert len(rows) == len(document.details)
    ec2 = rows[0]
    assert ec2["usage_type"] == "USE1-BoxUsage:m5.large"
    assert ec2["cost"] == "71.4240000000"
    assert ec2["price"] == "82.1376000000"
    assert ec2["price_rounded"] == "82.14"
    free_trial = next(row for row in rows if row["usage_type"] == "USE1-MP:FreeTrial")
    assert (free_trial["marketplace"], free_trial["price"]) == ("yes", "0.0000000000")
    assert ec2["marketplace"] == "no"


def test_detailed_prices_per_category_round_to_the_statement_line():
    document = make_statement()
    full = defaultdict(Decimal)
    for row in read(render(document, "detailed-csv")):
        full[row["service_category"]] += Decimal(row["price"])
    for line in document.lines:
        if line.kind in {"service", "marketplace"}:
            rounded = full[line.service_category].quantize(Decimal("0.01"), ROUND_HALF_UP)
            assert rounded == line.amount, line.description


def test_same_document_renders_byte_identical_with_lf_utf8():
    for fmt in ("csv", "detailed-csv"):
        first, second = render(make_statement(), fmt), render(make_statement(), fmt)
        assert first == second
        assert b"\r" not in first
        first.decode("utf-8")


def test_text_that_a_spreadsheet_would_run_as_a_formula_is_defused():
    evil = dataclasses.replace(make_statement().lines[0], description='=HYPERLINK("x")')
    rows = read(render(make_statement(lines=[evil]), "csv"))
    assert rows[0]["description"] == '\'=HYPERLINK("x")'


def test_unknown_format_is_refused():
    with pytest.raises(PluginError, match="no format 'xlsx'"):
        render(make_statement(), "xlsx")


def test_csv_renderer_is_discoverable_and_registers_both_formats():
    names = {ep.name for ep in entry_points(group="billing_connector")}
    assert "csv-renderer" in names
    from connector.plugins import load_plugins

    host = load_plugins()
    assert host.renderers.get("csv") is CsvRenderer
    assert host.renderers.suffix("detailed-csv") == ".detailed.csv"
