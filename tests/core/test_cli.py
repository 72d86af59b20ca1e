"""The `connector` command: exit codes and messages an operator can act on."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from tests.conftest import REPO
from tests.core.conftest import DEMO_CUR, build_october, run, settings_file
from tests.providers.cur_files import row, write_cur

BAD_TENANT = """\
tenant: broken
profile:
  name: Broken Reseller
  colour: blue
providers:
  aws: {settings: {path: data}}
erp:
  sink: csv
invoice_options:
  term_value: thirty
customers:
  - id: "1"
    name: First
    invoice_currency: USD
    accounts:
      aws: ["111111111111"]
  - id: "2"
    name: Second
    invoice_currency: USD
    accounts:
      aws: ["111111111111"]
"""


def test_check_config_reports_three_mistakes_with_lines_and_exits_1(tmp_path: Path) -> None:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    (tenants / "broken.yaml").write_text(BAD_TENANT)
    result = run("--config", str(settings_file(tmp_path, tenants)), "check-config")
    assert result.exit_code == 1
    text = " ".join(result.output.split())  # undo the console's wrapping
    assert "5 configuration problem(s)" in text
    assert "broken.yaml:4: profile.colour" in text
    assert "broken.yaml:10: invoice_options.term_value" in text
    assert "broken.yaml:21: customers[1].accounts.aws[0]" in text
    # Issue 18: accounts with no pricebook for their provider, which the build refuses.
    assert "broken.yaml:12: customers[0]: customer 1 has aws accounts but no pricebook" in text
    assert "broken.yaml:17: customers[1]: customer 2 has aws accounts but no pricebook" in text


def test_check_config_passes_the_example(tmp_path: Path, example_tenants: Path) -> None:
    result = run("--config", str(settings_file(tmp_path, example_tenants)), "check-config")
    assert result.exit_code == 0, result.output
    assert "ok acme: 3 customers" in result.output


def test_check_config_validates_plugin_settings(tmp_path: Path, example_tenants: Path) -> None:
    path = example_tenants / "acme.yaml"
    path.write_text(
        path.read_text().replace("    settings:\n      path:", "    settings:\n      folder:", 1)
    )
    result = run("--config", str(settings_file(tmp_path, example_tenants)), "check-config")
    assert result.exit_code == 1
    assert "providers.aws.settings" in " ".join(result.output.split())


def test_config_schema_is_json_schema_of_tenant_files() -> None:
    result = run("config", "schema")
    schema = json.loads(result.output)
    assert {"tenant", "customers", "providers", "erp"} <= set(schema["properties"])


def test_unreachable_database_exits_3(tmp_path: Path, example_tenants: Path) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
    result = run(
        "--config",
        str(settings_file(tmp_path, example_tenants, url, upgrade=False)),
        "statements",
        "list",
        "--tenant",
        "acme",
    )
    assert result.exit_code == 3
    assert "cannot reach the database at" in result.output


def test_generate_before_ingest_exits_5_and_says_what_to_run(
    tmp_path: Path, example_tenants: Path
) -> None:
    config = str(settings_file(tmp_path, example_tenants))
    run("--config", config, "close", "--tenant", "acme", "--provider", "aws", "--period", "2026-09")
    result = run(
        "--config",
        config,
        "statements",
        "generate",
        "--tenant",
        "acme",
        "--provider",
        "aws",
        "--period",
        "2026-09",
    )
    assert result.exit_code == 5
    assert "connector ingest --tenant acme --provider aws" in " ".join(result.output.split())


def test_the_cli_runs_a_month(tmp_path: Path, example_tenants: Path) -> None:
    config = str(settings_file(tmp_path, example_tenants))
    drafts = build_october(config)
    assert len(drafts) == 3 and {d["status"] for d in drafts} == {"Draft"}
    deleted = run("--config", config, "statements", "delete", "--tenant", "acme", drafts[2]["id"])
    assert deleted.exit_code == 0
    approved = run("--config", config, "statements", "approve", "--tenant", "acme", "--all")
    assert approved.exit_code == 0
    listing = json.loads(
        run("--config", config, "statements", "list", "--tenant", "acme", "--json").output
    )
    assert sorted(s["number"] for s in listing) == ["ACME-01001", "ACME-01002"]
    again = run("--config", config, "statements", "delete", "--tenant", "acme", "ACME-01001")
    assert again.exit_code == 5 and "only Drafts can be deleted" in again.output
    shown = json.loads(
        run(
            "--config", config, "statements", "show", "--tenant", "acme", "ACME-01001", "--json"
        ).output
    )
    assert shown["lines"]
    assert sum((Decimal(x["amount"]) for x in shown["lines"]), Decimal(0)) == Decimal(
        shown["total"]
    )
    pushed = run("--config", config, "push", "--tenant", "acme")
    assert pushed.exit_code == 0 and pushed.output.count("delivered") == 2


def test_demo_writes_statements_and_the_erp_import(tmp_path: Path) -> None:
    result = run("demo", "--output", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.output
    written = {p.suffix for p in (tmp_path / "demo").rglob("*") if p.is_file()}
    assert {".pdf", ".csv", ".html", ".xml", ".db"} <= written
    assert len(list((tmp_path / "demo/statements").glob("*.pdf"))) == 3
    assert len(list((tmp_path / "demo/statements").glob("*.xml"))) == 3  # UBL e-invoices
    assert len(list((tmp_path / "demo/acme/erp").glob("acme-xero-invoices-*.csv"))) == 1
    assert "ACME-01003" in result.output


def test_ingest_of_a_malformed_cur_exits_4_naming_the_file(
    tmp_path: Path, example_tenants: Path
) -> None:
    folder = tmp_path / "cur"
    folder.mkdir()
    (folder / "cur-2026-10.csv").write_text(
        "line_item_line_item_type,line_item_unblended_cost\nUsage,1.0\n"
    )
    path = example_tenants / "acme.yaml"
    path.write_text(path.read_text().replace(str(REPO / "connector/demo_data/aws"), str(folder)))
    result = run(
        "--config",
        str(settings_file(tmp_path, example_tenants)),
        "ingest",
        "--tenant",
        "acme",
        "--provider",
        "aws",
    )
    assert result.exit_code == 4
    text = " ".join(result.output.split())
    assert "cur-2026-10.csv" in text and "CUR 2.0" in text


def test_regenerating_a_draft_prints_what_changed(tmp_path: Path, example_tenants: Path) -> None:
    """Customer 1002's account ran 100.00 of EC2 (a small CUR, so by hand):
      first:  EC2 100.00 x 1.15 = 115.00; tax 8.25 % x 115.00 = 9.4875 -> 9.49
      global_discount 10: D = 11.50; B = 103.50; tax 8.25 % x 103.50 = 8.53875 -> 8.54
      global_discount 20: D = 23.00; B = 92.00;  tax 8.25 % x 92.00 = 7.59
    Each regeneration prints (or, with --json, lists) the lines whose amounts changed;
    a regeneration that changes nothing says so."""
    folder = tmp_path / "cur"
    write_cur(folder / "cur-2026-10.csv", [row(account="333333333333", cost="100.0000000000")])
    path = example_tenants / "acme.yaml"
    path.write_text(path.read_text().replace(str(DEMO_CUR), str(folder)))
    config = str(settings_file(tmp_path, example_tenants))
    args = ["--config", config, "statements", "generate", "--tenant", "acme", "--provider",
            "aws", "--period", "2026-10", "--customer", "1002"]  # fmt: skip
    run("--config", config, "ingest", "--tenant", "acme", "--provider", "aws")
    first = json.loads(run(*args, "--json").output)
    assert first["changes"] == {}
    assert Decimal(first["generated"][0]["total"]) == Decimal("124.49")  # 115.00 + 9.49

    def set_discount(percent: int) -> None:
        text = path.read_text().replace("    global_discount: 10\n", "")
        marker = "    invoice_currency: USD\n"
        at = text.index(marker, text.index('id: "1002"')) + len(marker)
        path.write_text(text[:at] + f"    global_discount: {percent}\n" + text[at:])

    set_discount(10)
    # October closed at the first build: the edit reprices it only when asked to.
    assert json.loads(run(*args, "--json").output)["changes"] == {"1002": []}
    printed = run(*args, "--reprice-with-current-config")
    assert printed.exit_code == 0, printed.output
    text = " ".join(printed.output.split())  # undo the console's wrapping
    assert "customer 1002: Discount (10%): - -> -11.50 (-11.50)" in text
    assert "customer 1002: US Sales Tax (8.25%): 9.49 -> 8.54 (-0.95)" in text
    assert "customer 1002: Amazon Elastic Compute Cloud" not in text  # unchanged line

    set_discount(20)
    second = json.loads(run(*args, "--reprice-with-current-config", "--json").output)
    assert {c["line"]: (c["before"], c["after"]) for c in second["changes"]["1002"]} == {
        "Discount (10%)": ("-11.50", None),
        "Discount (20%)": (None, "-23.00"),
        "US Sales Tax (8.25%)": ("8.54", "7.59"),
    }
    unchanged = run(*args).output
    assert "customer 1002: regenerated, no change" in unchanged


def test_generate_builds_the_others_and_exits_5_when_one_customer_cannot_be_built(
    tmp_path: Path, example_tenants: Path
) -> None:
    """Regression (issue 18): customer 1002 without its AWS pricebook stopped the whole
    build. Now 1001 and 1003 get their Drafts, 1002 is named with the seeds' error and
    the YAML key, and the exit code (5) says not everything was built."""
    path = example_tenants / "acme.yaml"
    text = path.read_text()
    start = text.index('id: "1002"')
    at = text.index("      aws: aws-standard\n", start)
    text = text[:at] + text[at + len("      aws: aws-standard\n") :]
    path.write_text(
        text.replace("    pricebooks:\n    accounts:", "    pricebooks: {}\n    accounts:")
    )
    config = str(settings_file(tmp_path, example_tenants))
    run("--config", config, "ingest", "--tenant", "acme", "--provider", "aws")
    args = ["--config", config, "statements", "generate", "--tenant", "acme", "--provider",
            "aws", "--period", "2026-10"]  # fmt: skip
    printed = run(*args)
    assert printed.exit_code == 5, printed.output
    text = " ".join(printed.output.split())
    assert (
        "not built: customer 1002: The customer with ID #1002 does not have the currency "
        "USD enabled" in text
    )
    listed = json.loads(run("--config", config, "statements", "list", "--tenant", "acme",
                            "--json").output)  # fmt: skip
    assert sorted(s["customer"] for s in listed) == ["1001", "1003"]
    as_json = run(*args, "--json")
    assert as_json.exit_code == 5
    assert [f["customer"] for f in json.loads(as_json.output)["failed"]] == ["1002"]
