"""A closed month stays closed (seed 003), through the CLI, on SQLite and PostgreSQL.

October closes when it is first built. Then the tenant file is edited everywhere that
prices a statement: the pricebook version in place, the support plan's minimum fee, a
customer's global discount, the tax rate, the invoice options and the generation
options. Rebuilding October gives the same statements, byte for byte in every
rendered format; November, closed after the edit, is priced by the new file; and only
``--reprice-with-current-config`` reprices October, printing what changed and leaving
who did it in the audit trail.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from connector.config.settings import DaemonSettings
from connector.runtime.runtime import open_runtime
from connector.storage import models as m
from tests.core.conftest import DEMO_CUR, run, settings_file

FORMATS = ("csv", "detailed-csv", "html")  # UBL is made of invoices: numbered ones only
# The edits made after October closed: (old text, new text) in acme.yaml.
EDITS = [
    ("            percent: 15\n", "            percent: 40\n"),  # pricebook edited in place
    ('    minimum_fee: "100"', '    minimum_fee: "900"'),  # support plan
    ('    rate: "0.0825"', '    rate: "0.10"'),  # tax rate
    ("  global_discount: 5\n", "  global_discount: 12\n"),  # a customer's discount
    ("  term_value: 30 ", "  term_value: 45 "),  # invoice options
    ("  add_rounding_adjustments: true ", "  add_rounding_adjustments: false "),
    ("  include_credits_for_tax: false ", "  include_credits_for_tax: true "),
    ("  tax_rounding: statement ", "  tax_rounding: line "),
    ("for Informational Purposes only.", "for your records."),
    ("  include_marketplace_fees: true ", "  include_marketplace_fees: false "),  # generation
]


@pytest.fixture
def tenant_file(tmp_path: Path) -> Path:
    """acme.yaml with October's and November's CUR, customer 1002 on the business support
    plan and customer 1001 with a 5 % global discount."""
    cur = tmp_path / "cur"
    cur.mkdir()
    october = (DEMO_CUR / "cur-2026-10-00001.csv").read_text()
    (cur / "cur-2026-10-00001.csv").write_text(october)
    november = october.replace("2026-11-01", "2026-12-01").replace("2026-10-", "2026-11-")
    november = november.replace("demo0", "nov0").replace("EUINUS26-000123", "EUINUS26-000456")
    (cur / "cur-2026-11-00001.csv").write_text(november)
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    text = (Path(__file__).parents[2] / "config/tenants/acme.yaml").read_text()
    text = text.replace("../../connector/demo_data/aws", str(cur))
    text = text.replace(
        "    tax: US Sales Tax\n    erp:\n      contact_name: Summit Ridge Dental Group",
        "    tax: US Sales Tax\n    support_plan: business\n    erp:\n"
        "      contact_name: Summit Ridge Dental Group",
    )
    accounts = text.index('      aws: ["111111111111", "222222222222"]')
    end = text.index("\n", accounts) + 1
    text = f"{text[:end]}    global_discount: 5\n{text[end:]}"
    assert "support_plan: business" in text and "global_discount: 5" in text
    path = tenants / "acme.yaml"
    path.write_text(text)
    return path


def cli(config: Path, *args: str) -> str:
    result = run("--config", str(config), *args)
    assert result.exit_code == 0, result.output
    return result.output


def generate(config: Path, period: str, *extra: str) -> dict:
    return json.loads(cli(config, "statements", "generate", "--tenant", "acme", "--provider",
                          "aws", "--period", period, "--json", *extra))  # fmt: skip


def shown(config: Path, period: str) -> dict[str, dict]:
    """Each customer's statement of ``period`` as ``statements show --json`` prints it,
    without what a rebuild renews (its id and revision)."""
    listed = json.loads(cli(config, "statements", "list", "--tenant", "acme", "--period", period,
                            "--json"))  # fmt: skip
    out = {}
    for summary in listed:
        statement = json.loads(cli(config, "statements", "show", "--tenant", "acme",
                                   summary["id"], "--json"))  # fmt: skip
        out[summary["customer"]] = _without_ids(statement, summary["id"])
    return out


def _without_ids(value, statement_id: str):  # type: ignore[no-untyped-def]
    text = json.dumps(value, sort_keys=True).replace(statement_id, "<id>")
    data = json.loads(text)
    data.pop("revision", None)
    return data


def exported(config: Path, period: str, folder: Path) -> dict[str, bytes]:
    """Every rendered file of ``period``'s statements, by customer and format, with the
    statement id (renewed by a rebuild) masked."""
    listed = json.loads(cli(config, "statements", "list", "--tenant", "acme", "--period", period,
                            "--json"))  # fmt: skip
    files = {}
    for summary in listed:
        out = folder / summary["customer"]
        args = [a for f in FORMATS for a in ("--format", f)]
        cli(config, "statements", "export", "--tenant", "acme", summary["id"], *args,
            "--output", str(out))  # fmt: skip
        for path in sorted(out.rglob("*")):
            if path.is_file():
                # A Draft's file name carries its id, which a rebuild renews.
                name = f"{summary['customer']}/{path.name.replace(summary['id'], '<id>')}"
                files[name] = path.read_bytes().replace(summary["id"].encode(), b"<id>")
    return files


def test_a_closed_period_rebuilt_after_every_pricing_edit_is_byte_identical(
    db_url: str, tmp_path: Path, tenant_file: Path
) -> None:
    config = settings_file(tmp_path, tenant_file.parent, db_url)
    cli(config, "ingest", "--tenant", "acme", "--provider", "aws")
    first = generate(config, "2026-10")
    assert len(first["generated"]) == 3
    before_show = shown(config, "2026-10")
    before_files = exported(config, "2026-10", tmp_path / "a")
    assert any(name.endswith(".html") for name in before_files)

    text = tenant_file.read_text()
    for old, new in EDITS:
        assert old in text, old
        text = text.replace(old, new)
    tenant_file.write_text(text)

    again = generate(config, "2026-10")
    assert len(again["generated"]) == 3
    assert again["changes"] == {"1001": [], "1002": [], "1003": []}
    assert again["repriced"] == []
    assert shown(config, "2026-10") == before_show
    assert exported(config, "2026-10", tmp_path / "b") == before_files

    # November closed after the edit: the new file prices it.
    november = {s["customer"]: s for s in generate(config, "2026-11")["generated"]}
    rt = open_runtime(DaemonSettings(database_url=db_url, tenants_dir=tenant_file.parent,
                                     output_dir=tmp_path / "o"))  # fmt: skip
    try:
        with rt.db.transaction() as session:
            rows = {
                s.customer_id: s for s in session.scalars(
                    select(m.Statement).where(m.Statement.id.in_(
                        [s["id"] for s in november.values()]))
                )
            }  # fmt: skip
            assert {s.tax_rate for s in rows.values() if s.tax_rate is not None} == {
                Decimal("0.10")
            }
            assert all(not s.options["include_marketplace_fees"] for s in rows.values())
            assert all((s.due_date - s.issue_date).days == 45 for s in rows.values())
            support = next(line.amount for line in rows["1002"].lines if line.kind == "support")
            assert support == Decimal("900.00")
    finally:
        rt.db.dispose()

    # Only an explicit reprice changes October; it prints what changed and is audited.
    result = run("--config", str(config), "statements", "generate", "--tenant", "acme",
                 "--provider", "aws", "--period", "2026-10",
                 "--reprice-with-current-config")  # fmt: skip
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert 'pricebooks.aws-standard.versions[0].rules[0].percent: "15" -> "40"' in out
    assert 'support_plans.business.minimum_fee: "100" -> "900"' in out
    assert "customers.1001.global_discount" in out
    assert "generation.include_marketplace_fees: true -> false" in out
    assert "customer 1002: Support plan: 100.00 -> 900.00" in out
    rt = open_runtime(DaemonSettings(database_url=db_url, tenants_dir=tenant_file.parent,
                                     output_dir=tmp_path / "o"))  # fmt: skip
    try:
        with rt.db.transaction() as session:
            (entry,) = session.scalars(
                select(m.AuditEntry).where(m.AuditEntry.action == "period.reprice")
            )
            assert entry.subject == "aws:2026-10" and entry.actor.startswith("cli")
            changed = {setting for setting, _, _ in entry.detail["changes"]}
            assert "tax_rates.US Sales Tax.rate" in changed
            assert "invoice_options.term_value" in changed
    finally:
        rt.db.dispose()
    # And the reprice is what October is priced by from now on.
    assert generate(config, "2026-10")["changes"] == {"1001": [], "1002": [], "1003": []}


def test_check_config_reports_a_version_edited_after_it_priced_approved_statements(
    db_url: str, tmp_path: Path, tenant_file: Path
) -> None:
    """October is approved (ACME-01001..01003) with aws-standard@2026-01-01's 15 %
    markup. Editing that version in place is reported at its line, with the statements
    it priced and the fix; the same change as a new version is fine. An edit before
    anything was approved is not reported (a Draft is rebuilt at will)."""
    config = settings_file(tmp_path, tenant_file.parent, db_url)
    cli(config, "ingest", "--tenant", "acme", "--provider", "aws")
    generate(config, "2026-10")
    original = tenant_file.read_text()
    edited = original.replace("            percent: 15\n", "            percent: 40\n")
    tenant_file.write_text(edited)
    assert run("--config", str(config), "check-config").exit_code == 0  # only Drafts yet

    tenant_file.write_text(original)
    cli(config, "statements", "approve", "--tenant", "acme", "--all")
    tenant_file.write_text(edited)
    result = run("--config", str(config), "check-config")
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    line = next(i for i, t in enumerate(original.splitlines(), 1) if "- effective: 2026-01-01" in t)
    assert f"acme.yaml:{line}: pricebooks[0].versions[0]: version aws-standard@2026-01-01" in text
    assert "ACME-01001, ACME-01002, ACME-01003" in text and "(closed 2026-10)" in text
    assert "new version with a later 'effective' date" in text

    new_version = original.replace(
        "    versions:\n",
        "    versions:\n      - effective: 2026-11-01\n        rules:\n"
        "          - {adjust: markup, percent: 40, basis: cost}\n",
        1,
    )
    tenant_file.write_text(new_version)
    assert run("--config", str(config), "check-config").exit_code == 0
