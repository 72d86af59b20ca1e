"""Statement ids as listed can be typed back (issue 20, defect 1).

Ids are UUIDv7s: their first 8 characters are the time they were made, the same for
every statement of one build, and `statements list` printed just those 8, which no
command accepted. Ids are now shown git-style (the shortest start, at least 8
characters, no other statement of the tenant shares) and every command that takes a
statement accepts any unique start of an id.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from connector.pipeline.review.approve import ApprovalError, find_statements, short_ids
from connector.storage import models as m
from connector.storage.db import Database
from tests.core.conftest import build_october, run

ACME = ("--tenant", "acme")


def listed_ids(config: str, *args: str) -> dict[str, str]:
    """The id column of `statements list`, by customer."""
    output = run("--config", config, "statements", "list", *ACME, *args).output
    rows = [line.split("│") for line in output.splitlines() if line.startswith("│")]
    return {cells[3].strip(): cells[1].strip() for cells in rows}


def test_listed_ids_differ_and_each_shows_its_own_statement(example_config: str) -> None:
    built = {s["customer"]: s["id"] for s in build_october(example_config)}
    shown = listed_ids(example_config)
    assert set(shown) == {"1001", "1002", "1003"}
    assert len(set(shown.values())) == 3  # one build's ids start alike: cut at 8 they clash
    for customer, short in shown.items():
        assert len(short) >= 8 and built[customer].startswith(short)
        result = run("--config", example_config, "statements", "show", *ACME, short, "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["id"] == built[customer]


def test_every_command_that_takes_a_statement_takes_the_start_of_its_id(
    example_config: str, tmp_path
) -> None:
    build_october(example_config)
    short = listed_ids(example_config)

    def cli(*args: str) -> str:
        result = run("--config", example_config, *args)
        assert result.exit_code == 0, result.output
        return result.output

    cli("statements", "approve", *ACME, short["1001"], short["1002"].upper())
    cli("statements", "set-status", *ACME, "Past Due", short["1001"])
    note = cli("statements", "void", *ACME, short["1002"], "--reason", "wrong pricebook")
    out = tmp_path / "files"
    cli("statements", "export", *ACME, short["1001"], "--format", "csv", "--output", str(out))
    cli("outbox", "retry", *ACME, short["1001"])
    cli("statements", "delete", *ACME, short["1003"])

    listed = json.loads(cli("statements", "list", *ACME, "--json"))
    status = {(s["customer"], s["kind"]): (s["status"], s["number"]) for s in listed}
    assert status == {
        ("1001", "usage"): ("Past Due", "ACME-01001"),
        ("1002", "usage"): ("Void", "ACME-01002"),
        ("1002", "credit-note"): ("Open", note.strip()),
    }
    assert [p.name for p in out.iterdir()] == ["aws-2026-10-1001-ACME-01001.csv"]


def test_an_ambiguous_start_lists_its_candidates(example_config: str) -> None:
    ids = {s["customer"]: s["id"] for s in build_october(example_config)}
    shared = os.path.commonprefix(list(ids.values()))
    assert len(shared) >= 8  # built together: same millisecond or near it
    shown = listed_ids(example_config)
    result = run("--config", example_config, "statements", "show", *ACME, shared)
    assert result.exit_code == 5
    message = " ".join(result.output.split())
    assert f"statement id prefix '{shared}' of tenant 'acme' fits several statements" in message
    assert "give more of the id, or the invoice number" in message
    for customer, short in shown.items():
        assert f"{short} (no number) Draft customer {customer} aws 2026-10" in message


def test_an_unknown_ref_says_how_to_list_statements(example_config: str) -> None:
    build_october(example_config)
    result = run("--config", example_config, "statements", "approve", *ACME, "ffff0000", "X-9")
    assert result.exit_code == 5
    message = " ".join(result.output.split())
    assert "tenant 'acme' has no statement 'ffff0000'" in message
    assert "tenant 'acme' has no statement 'X-9'" in message  # every unknown one at once
    assert "`connector statements list --tenant acme` lists them" in message


IDS = (
    "01a24ecb-6fa3-7000-8000-000000000001",
    "01a24ecb-6fa3-7000-8000-000000000002",
    "01a24ecb-6fa3-7001-8000-000000000000",
    "01a24ecc-0000-7000-8000-000000000000",
    "01b00000-0000-7000-8000-000000000000",
)
NUMBERED = "02000000-0000-7000-8000-000000000000"  # its invoice number is "01a24ecc"


def _statement(tenant: str, ident: str, customer: str, number: str | None = None) -> m.Statement:
    day = dt.date(2026, 10, 1)
    return m.Statement(
        id=ident, tenant_id=tenant, customer_id=customer, provider="aws", period_start=day,
        period_end=day, status="Draft" if number is None else "Open", number=number,
        currency="USD", subtotal=Decimal(0), tax=Decimal(0), total=Decimal(0), issue_date=day,
        due_date=day,
    )  # fmt: skip


def test_short_ids_are_the_shortest_unique_starts_and_lead_back(db_url: str) -> None:
    """Each id is cut after the first character no other id of the tenant shares, never
    under 8; one that would read as an invoice number (a number is found before an id
    prefix) is made longer, past the dash it would end in. Every short id leads back
    to its statement; a shared start is refused."""
    db = Database(db_url)
    with db.transaction() as session:
        session.add_all([m.Tenant(id=t, name=t, next_invoice_number=1) for t in ("t", "u")])
        session.flush()
        session.add_all(_statement("t", i, f"c{n}") for n, i in enumerate(IDS))
        session.add(_statement("t", NUMBERED, "x", number="01a24ecc"))
        # Another tenant's ids change nothing of this one's.
        session.add(_statement("u", IDS[4][:-1] + "1", "c"))
    with db.transaction() as session:
        shorts = short_ids(session, "t", [*IDS, NUMBERED])
        assert shorts == {
            IDS[0]: IDS[0],  # shares all but its last character with the next
            IDS[1]: IDS[1],
            IDS[2]: "01a24ecb-6fa3-7001",
            IDS[3]: "01a24ecc-0",  # "01a24ecc" is an invoice number
            IDS[4]: "01b00000",
            NUMBERED: "02000000",
        }
        found = find_statements(session, "t", [shorts[i] for i in IDS])
        assert [s.id for s in found] == list(IDS)
        (numbered,) = find_statements(session, "t", ["01a24ecc"])
        assert numbered.id == NUMBERED
        with pytest.raises(ApprovalError, match="'01a24ecb-6fa3' of tenant 't' fits several"):
            find_statements(session, "t", ["01a24ecb-6fa3"])
        with pytest.raises(ApprovalError, match="no statement '01b'"):  # too short to try
            find_statements(session, "t", ["01b"])
    db.dispose()


def test_show_heads_a_statement_with_its_customers_name_and_no_dangling_separator(
    example_config: str,
) -> None:
    """Issue 20, defect 11: the heading was the table's title, wrapped to the table's
    width ("… · aws 2026-10 ·" then "Draft") and read as markup. It is one line now,
    leaving out what a Draft lacks (a number), the customer's name printed as written."""
    tenant_file = Path(example_config).parent / "tenants" / "acme.yaml"
    text = tenant_file.read_text()
    tenant_file.write_text(text.replace("Blue Harbor Logistics LLC", "Blue [b]Harbor[/b] LLC"))
    ids = {s["customer"]: s["id"] for s in build_october(example_config)}

    def heading(ref: str) -> str:
        result = run("--config", example_config, "statements", "show", *ACME, ref)
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert not any(line.rstrip().endswith("·") for line in lines)
        return lines[0]

    assert heading(ids["1001"]) == "Blue [b]Harbor[/b] LLC (customer 1001) · aws 2026-10 · Draft"
    approved = run("--config", example_config, "statements", "approve", *ACME, "--all")
    assert approved.exit_code == 0, approved.output
    assert heading("ACME-01002") == (
        "ACME-01002 · Summit Ridge Dental Group (customer 1002) · aws 2026-10 · Open"
    )
