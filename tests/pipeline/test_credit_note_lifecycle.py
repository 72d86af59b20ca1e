"""Credit notes: only their own transitions (one rule for every caller), and every
document of one names the invoice it credits."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import select

from connector.cli.statements import statements as statements_cli
from connector.cli.support import State
from connector.contracts import CreditedInvoice
from connector.domain import status_rules as rules
from connector.pipeline.build.documents import load_documents
from connector.pipeline.publish.erp import renderer_for
from connector.pipeline.review.lifecycle import LifecycleError, set_status
from connector.pipeline.review.void import void
from connector.pipeline.sync.sync import mark_past_due
from connector.storage import models as m
from tests.pipeline.test_void import VOIDED_ON, opened, stored

XSD = Path(__file__).resolve().parents[1] / "contracts" / "ubl" / "xsd" / "maindoc"
NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


def voided(runtime) -> tuple[m.Statement, m.Statement]:
    """ACME-01001 voided on 2026-11-20: (the invoice, its credit note ACME-01004)."""
    first, *_ = opened(runtime)
    note = void(runtime, "acme", first, "ann", "billed the wrong account", today=VOIDED_ON)
    return stored(runtime, first)[0], stored(runtime, note.number)[0]


def statuses_and_audit(runtime) -> tuple[dict[str, str], int]:
    with runtime.db.transaction() as session:
        found = {s.number: s.status for s in session.scalars(select(m.Statement))}
        audited = session.scalars(
            select(m.AuditEntry).where(m.AuditEntry.action == "statement.status")
        ).all()
        return found, len(audited)


def document_of(runtime, statement_id: str):
    with runtime.db.transaction() as session:
        [document] = load_documents(session, runtime.tenant("acme"), [statement_id])
        return document


# ------------------------------------------------------------------ the transition rule


def test_the_rule_gives_invoices_and_credit_notes_their_own_transitions() -> None:
    for kind in (rules.USAGE, rules.PURCHASE):
        assert rules.next_statuses(kind, "Open") == ["Past Due", "Closed", "Void"]
        assert rules.next_statuses(kind, "Open", rules.SET_STATUS) == ["Past Due", "Closed"]
        assert rules.next_statuses(kind, "Draft") == ["Open"]
    assert rules.next_statuses(rules.CREDIT_NOTE, "Open") == ["Closed"]
    assert rules.next_statuses(rules.CREDIT_NOTE, "Draft") == []
    assert rules.kinds_allowing("Open", "Past Due") == (rules.USAGE, rules.PURCHASE)
    assert rules.kinds_allowing("Open", "Closed") == (
        rules.USAGE,
        rules.PURCHASE,
        rules.CREDIT_NOTE,
    )
    assert not rules.allows(rules.CREDIT_NOTE, "Open", "Void", rules.VOIDING)


def test_past_due_is_refused_for_a_credit_note_by_set_status_as_by_the_daemon(runtime) -> None:
    _, note = voided(runtime)
    before = statuses_and_audit(runtime)

    with pytest.raises(LifecycleError) as refused:
        set_status(runtime, "acme", [note.number], "Past Due", actor="ann")

    message = str(refused.value)
    assert "credit note ACME-01004 is Open; it cannot become Past Due" in message
    assert "nothing is due on a credit note" in message
    assert "legal next statuses for a credit note in Open are Closed" in message
    assert statuses_and_audit(runtime) == before
    # The daemon's Past Due step, a year on: the Open invoices become Past Due, the
    # credit note (due the day it was issued) stays Open.
    late = mark_past_due(runtime, "acme", VOIDED_ON + dt.timedelta(days=365))
    assert late == ["ACME-01002", "ACME-01003"]
    assert stored(runtime, note.number)[0].status == "Open"


def test_a_credit_note_can_be_closed_once_settled(runtime) -> None:
    _, note = voided(runtime)
    (closed,) = set_status(runtime, "acme", [note.number], "Closed", actor="daemon:payment-sync")
    assert closed.status == "Closed"
    with pytest.raises(LifecycleError, match="credit note ACME-01004 is Closed, which is final"):
        set_status(runtime, "acme", [note.number], "Open", actor="ann")


def test_the_cli_refuses_past_due_for_a_credit_note_with_exit_5(runtime) -> None:
    _, note = voided(runtime)
    state = State(None)
    state._runtime = runtime  # the fixture's runtime, not one from a settings file

    refused = CliRunner().invoke(
        statements_cli, ["set-status", "--tenant", "acme", "Past Due", note.number], obj=state
    )

    assert refused.exit_code == 5, refused.output
    output = " ".join(refused.output.split())
    assert "credit note ACME-01004 is Open" in output and "nothing is due" in output
    assert stored(runtime, note.number)[0].status == "Open"


# ------------------------------------------------------- the credit note's documents


def test_the_credit_notes_document_names_the_invoice_it_credits(runtime) -> None:
    original, note = voided(runtime)
    document = document_of(runtime, note.id)
    assert document.credited_invoice == CreditedInvoice(
        "ACME-01001", original.issue_date, original.id
    )
    assert document_of(runtime, original.id).credited_invoice is None


def test_a_credit_note_stored_before_the_date_was_recorded_reads_it_from_the_invoice(
    runtime,
) -> None:
    original, note = voided(runtime)
    with runtime.db.transaction() as session:
        row = session.get(m.Statement, note.id)
        row.options = {
            k: v for k, v in row.options.items() if k not in ("credits_issue_date", "credits_id")
        }
    credited = document_of(runtime, note.id).credited_invoice
    assert credited == CreditedInvoice("ACME-01001", original.issue_date, original.id)


def test_the_credit_notes_ubl_validates_with_its_billing_reference(runtime) -> None:
    original, note = voided(runtime)
    render = renderer_for(runtime, runtime.tenant("acme"))
    root = etree.fromstring(render(document_of(runtime, note.id), "ubl"))

    schema = etree.XMLSchema(etree.parse(str(XSD / "UBL-CreditNote-2.5.xsd")))
    assert schema.validate(root), schema.error_log
    reference = root.find("cac:BillingReference/cac:InvoiceDocumentReference", NS)
    assert reference.findtext("cbc:ID", namespaces=NS) == "ACME-01001"
    assert reference.findtext("cbc:IssueDate", namespaces=NS) == original.issue_date.isoformat()


def test_the_credit_notes_detailed_csv_lists_the_lines_it_reverses(runtime) -> None:
    """Each of the invoice's detail rows, its cost and price negated: they add up to the
    credit note's service lines as the invoice's add up to its own."""
    original, note = voided(runtime)
    render = renderer_for(runtime, runtime.tenant("acme"))

    def rows(statement: m.Statement) -> list[dict[str, str]]:
        text = render(document_of(runtime, statement.id), "detailed-csv").decode()
        return list(csv.DictReader(io.StringIO(text)))

    invoice_rows, note_rows = rows(original), rows(note)
    assert len(invoice_rows) > 1 and len(note_rows) == len(invoice_rows)
    assert {r["invoice_number"] for r in note_rows} == {"ACME-01004"}
    for theirs, ours in zip(invoice_rows, note_rows, strict=True):
        assert (ours["account_id"], ours["usage_type"]) == (
            theirs["account_id"],
            theirs["usage_type"],
        )
        assert Decimal(ours["price"]) == -Decimal(theirs["price"])
        assert Decimal(ours["cost"]) == -Decimal(theirs["cost"])
    services = [x for x in note.lines if x.kind == "service"]
    assert services and all(x.amount < 0 for x in services)
    for line in services:
        priced = sum(
            Decimal(r["price"]) for r in note_rows if r["service_category"] == line.service_category
        )
        assert priced.quantize(Decimal("0.01"), ROUND_HALF_UP) == line.amount, line.description
