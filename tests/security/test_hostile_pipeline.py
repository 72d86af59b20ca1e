"""Ingest, every renderer and the CSV ERP sink with hostile provider data and names."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from tests.security.corpus import AMOUNTS, NON_FINITE, PATHS, TEXT, ids
from tests.security.harness import (
    Workspace,
    assert_refused_or_ok,
    base_tenant,
    cli,
    make_workspace,
    reset_marker,
    unsafe_cells,
    write_cur_rows,
    write_tenant,
)

TENANT = ("--tenant", "acme")
OCTOBER = ("--provider", "aws", "--period", "2026-10")
FORMATS = {"pdf": ".pdf", "csv": ".csv", "detailed-csv": ".detailed.csv", "html": ".html",
           "ubl": ".xml"}  # fmt: skip


@pytest.fixture(autouse=True)
def _no_marker():
    reset_marker()
    yield
    reset_marker()


def _ingest_and_generate(ws: Workspace) -> None:
    ingested = cli(ws, "ingest", *TENANT, "--provider", "aws", stage="ingest")
    assert_refused_or_ok(ingested)
    if ingested.exit_code == 0:
        generated = cli(ws, "statements", "generate", *TENANT, *OCTOBER, stage="generate")
        assert_refused_or_ok(generated)


@pytest.mark.parametrize(("name", "value"), TEXT, ids=ids(TEXT))
def test_ingest_of_a_hostile_product_code_is_clean(tmp_path, name, value):
    ws = make_workspace(tmp_path)
    write_tenant(ws, base_tenant())
    write_cur_rows(ws, product=value)
    _ingest_and_generate(ws)


@pytest.mark.parametrize(("name", "value"), TEXT, ids=ids(TEXT))
def test_ingest_of_hostile_product_names_and_usage_types_is_clean(tmp_path_factory, name, value):
    # Builds (and caches) the approved workspace the renderer and sink tests use.
    approved_workspace(tmp_path_factory, name, value)


def _totals(ws: Workspace) -> list[str]:
    listed = cli(ws, "statements", "list", *TENANT, "--json", stage="list")
    assert listed.exit_code == 0, listed.output
    return [s["total"] for s in json.loads(listed.output)]


@pytest.mark.parametrize("column", ["cost", "amount"])
@pytest.mark.parametrize(("name", "value"), AMOUNTS, ids=ids(AMOUNTS))
def test_ingest_refuses_non_finite_amounts_and_keeps_totals_finite(tmp_path, name, value, column):
    ws = make_workspace(tmp_path)
    write_tenant(ws, base_tenant())
    write_cur_rows(ws, **{column: value})
    ingested = cli(ws, "ingest", *TENANT, "--provider", "aws", stage="ingest")
    if value in NON_FINITE and column == "cost":
        assert ingested.exit_code == 4, ingested.output[-2000:]
        assert "cur-2026-10-00001.csv" in " ".join(ingested.output.split())
        return
    assert_refused_or_ok(ingested)
    if ingested.exit_code == 0:
        generated = cli(ws, "statements", "generate", *TENANT, *OCTOBER, stage="generate")
        assert_refused_or_ok(generated)
        for total in _totals(ws):
            assert Decimal(total).is_finite() and abs(Decimal(total)) < Decimal("1e15"), total


# --------------------------------------------------------------------------- statements

_BUILT: dict[str, tuple[Workspace, bool]] = {}


def approved_workspace(factory, name: str, value: str) -> tuple[Workspace, bool]:
    """A workspace whose approved October statement carries ``value`` as the customer
    name, the notes and the CUR product name and usage type (each where it is accepted);
    and whether a statement was approved. Built once per input."""
    if name in _BUILT:
        return _BUILT[name]
    ws = make_workspace(factory.mktemp(f"built-{name}"))
    tenant = base_tenant()
    tenant["customers"][0]["name"] = value
    tenant["invoice_options"]["notes"] = value
    write_tenant(ws, tenant)
    if cli(ws, "check-config", stage="check-config").exit_code != 0:
        # The tenant file refuses it (tested in test_hostile_config); provider data still
        # carries it to the statement.
        write_tenant(ws, base_tenant())
    write_cur_rows(ws, product_name=value, usage_type=value)
    _ingest_and_generate(ws)
    approved = cli(ws, "statements", "approve", *TENANT, "--all", stage="approve")
    assert_refused_or_ok(approved)
    _BUILT[name] = (ws, approved.exit_code == 0 and "ACME-01001" in approved.output)
    return _BUILT[name]


def _check_rendered(fmt: str, path: Path, value: str) -> None:
    data = path.read_bytes()
    text = data.decode("utf-8", errors="replace")
    assert "uid=" not in text
    if fmt == "pdf":
        assert data.startswith(b"%PDF")
    elif fmt in ("csv", "detailed-csv"):
        assert unsafe_cells(data.decode("utf-8")) == []
    elif fmt == "html":
        if any(c in value for c in "<>"):
            assert value not in text, "unescaped markup in the HTML statement"
        assert "<script>alert(1)</script>" not in text
    elif fmt == "ubl":
        ET.fromstring(data)  # well-formed XML: special and control characters handled


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize(("name", "value"), TEXT, ids=ids(TEXT))
def test_every_renderer_makes_hostile_names_inert(tmp_path_factory, name, value, fmt):
    ws, approved = approved_workspace(tmp_path_factory, name, value)
    if not approved:
        pytest.skip("no approved statement: the input was refused before approval")
    folder = ws.out / "statements"
    exported = cli(ws, "statements", "export", *TENANT, "--period", "2026-10",
                   "--format", fmt, "--output", str(folder), stage=f"render-{fmt}")  # fmt: skip
    assert_refused_or_ok(exported)
    if exported.exit_code == 0:
        written = sorted(folder.glob(f"*{FORMATS[fmt]}"))
        if fmt == "csv":
            written = [p for p in written if not p.name.endswith(".detailed.csv")]
        assert written, exported.output
        for path in written:
            _check_rendered(fmt, path, value)


@pytest.mark.parametrize(("name", "value"), TEXT, ids=ids(TEXT))
def test_the_csv_erp_sink_neutralises_hostile_names(tmp_path_factory, name, value):
    ws, approved = approved_workspace(tmp_path_factory, name, value)
    if not approved:
        pytest.skip("no approved statement: the input was refused before approval")
    pushed = cli(ws, "push", *TENANT, stage="push")
    assert_refused_or_ok(pushed)
    for path in (ws.out / "acme" / "erp").glob("*.csv"):
        assert unsafe_cells(path.read_text(encoding="utf-8")) == [], path.name


@pytest.mark.parametrize(("name", "value"), PATHS, ids=ids(PATHS))
def test_the_csv_erp_sink_keeps_a_hostile_output_dir_inside_the_output_folder(
    tmp_path, name, value
):
    ws = make_workspace(tmp_path)
    tenant = base_tenant()
    tenant["erp"]["settings"]["output_dir"] = value
    write_tenant(ws, tenant)
    checked = cli(ws, "check-config", stage="check-config")
    assert_refused_or_ok(checked)
    if checked.exit_code != 0:
        return
    _ingest_and_generate(ws)
    assert_refused_or_ok(cli(ws, "statements", "approve", *TENANT, "--all", stage="approve"))
    assert_refused_or_ok(cli(ws, "push", *TENANT, stage="push"))
