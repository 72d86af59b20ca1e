"""Voiding an Open statement: it becomes Void and a credit note takes the next number."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from connector.cli.statements import statements as statements_cli
from connector.cli.support import State
from connector.contracts import StatementApproved, hookimpl
from connector.pipeline import credits
from connector.pipeline.build.build import generate
from connector.pipeline.ingest.ingest import ingest
from connector.pipeline.review.approve import ApprovalError, approve
from connector.pipeline.review.lifecycle import LifecycleError, set_status
from connector.pipeline.review.void import VoidError, void
from connector.storage import models as m
from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER

VOIDED_ON = dt.date(2026, 11, 20)


def opened(runtime) -> list[str]:
    """October's three statements approved: ACME-01001, ACME-01002, ACME-01003."""
    ingest(runtime, "acme", "aws")
    generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    return sorted(s.number for s in approve(runtime, "acme", None, actor="t"))


def stored(runtime, number: str) -> tuple[m.Statement, list[tuple]]:
    """The statement and its lines as (position, kind, description, amount, cost, quantity)."""
    with runtime.db.transaction() as session:
        statement = session.scalar(select(m.Statement).where(m.Statement.number == number))
        lines = [
            (x.position, x.kind, x.description, x.amount, x.cost, x.quantity)
            for x in statement.lines
        ]
        return statement, lines


def numbers(runtime) -> list[str]:
    with runtime.db.transaction() as session:
        return sorted(n for n in session.scalars(select(m.Statement.number)) if n)


def test_voiding_an_open_statement_issues_a_negated_credit_note_with_the_next_number(
    runtime,
) -> None:
    first, *_ = opened(runtime)
    original, original_lines = stored(runtime, first)
    events: list[object] = []

    class Listener:
        @hookimpl
        def connector_event(self, event: object) -> None:
            events.append(event)

    runtime.plugins.pm.register(Listener())

    note = void(runtime, "acme", first, "ann", "billed the wrong account", today=VOIDED_ON)

    assert note.number == "ACME-01004"
    voided, _ = stored(runtime, first)
    assert voided.status == "Void"
    credit, credit_lines = stored(runtime, "ACME-01004")
    assert (credit.status, credit.kind, credit.part) == ("Open", "credit-note", 0)
    assert (credit.customer_id, credit.provider, credit.period_start) == (
        original.customer_id, original.provider, original.period_start,
    )  # fmt: skip
    assert (credit.subtotal, credit.tax, credit.total) == (
        -original.subtotal, -original.tax, -original.total,
    )  # fmt: skip
    assert credit.total < 0
    assert (credit.currency, credit.tax_name, credit.tax_rate, credit.exchange_rate) == (
        original.currency, original.tax_name, original.tax_rate, original.exchange_rate,
    )  # fmt: skip
    assert (credit.issue_date, credit.due_date) == (VOIDED_ON, VOIDED_ON)
    assert credit.options["credits"] == first
    assert credit.options["notes"] == f"Credit note for {first}: billed the wrong account"
    assert credit_lines == [
        (pos, kind, text, -amount, -cost, quantity)
        for pos, kind, text, amount, cost, quantity in original_lines
    ]
    # No "-0.00" for a zero line: it prints as 0.00.
    assert all(not (line[3].is_zero() and line[3].is_signed()) for line in credit_lines)
    with runtime.db.transaction() as session:
        outbox = session.scalars(
            select(m.OutboxEntry).where(m.OutboxEntry.statement_id == credit.id)
        ).all()
        audit = session.scalars(
            select(m.AuditEntry).where(m.AuditEntry.action == "statement.void")
        ).all()
    assert [(e.state, e.sink) for e in outbox] == [("pending", "csv")]
    assert outbox[0].idempotency_key == f"acme:{credit.id}:r1"
    [entry] = audit
    assert (entry.actor, entry.subject) == ("ann", original.id)
    assert entry.detail["reason"] == "billed the wrong account"
    assert (entry.detail["from"], entry.detail["to"]) == ("Open", "Void")
    assert entry.detail["credit_note"] == "ACME-01004"
    assert events == [StatementApproved(tenant="acme", statement_id=credit.id, number="ACME-01004")]


def test_a_past_due_statement_can_be_voided_too(runtime) -> None:
    first, *_ = opened(runtime)
    set_status(runtime, "acme", [first], "Past Due", actor="t")
    note = void(runtime, "acme", first, "t", "disputed")
    assert note.number == "ACME-01004"
    assert stored(runtime, first)[0].status == "Void"


def test_numbers_stay_gapless_across_approvals_and_voids(runtime) -> None:
    """Approve three (01001-01003), void one (01004), void another (01005): the
    tenant's counter continues at 01006, no number skipped or taken twice."""
    first, second, _ = opened(runtime)
    assert void(runtime, "acme", first, "t", "wrong rate").number == "ACME-01004"
    assert void(runtime, "acme", second, "t", "wrong rate").number == "ACME-01005"
    assert numbers(runtime) == [f"ACME-0100{n}" for n in range(1, 6)]
    with runtime.db.transaction() as session:
        assert session.get(m.Tenant, "acme").next_invoice_number == 1006


def test_refusals_name_the_reason_and_change_nothing(runtime) -> None:
    first, second, third = opened(runtime)
    set_status(runtime, "acme", [second], "Closed", actor="t")
    with pytest.raises(VoidError, match=r"ACME-01002 is Closed \(paid\)"):
        void(runtime, "acme", second, "t", "oops")
    note = void(runtime, "acme", first, "t", "wrong")
    already = r"ACME-01001 is already Void \(credited by credit note ACME-01004\)"
    with pytest.raises(VoidError, match=already):
        void(runtime, "acme", first, "t", "again")
    with pytest.raises(VoidError, match="ACME-01004 is a credit note; it cannot be voided"):
        void(runtime, "acme", note.number, "t", "undo")
    with pytest.raises(VoidError, match="a reason is required"):
        void(runtime, "acme", third, "t", "  ")
    with pytest.raises(ApprovalError, match="no statement 'NOPE'"):
        void(runtime, "acme", "NOPE", "t", "x")
    assert numbers(runtime) == [f"ACME-0100{n}" for n in range(1, 5)]
    assert stored(runtime, third)[0].status == "Open"


def test_a_draft_is_refused_with_delete_it_instead(runtime) -> None:
    ingest(runtime, "acme", "aws")
    draft = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE).generated[0]
    with pytest.raises(VoidError, match="is Draft and has no invoice to correct; delete it"):
        void(runtime, "acme", draft.id, "t", "x")
    with runtime.db.transaction() as session:
        assert session.get(m.Tenant, "acme").next_invoice_number == 1001
        assert session.scalars(select(m.OutboxEntry)).all() == []


def test_set_status_cannot_void_and_a_void_statement_is_final(runtime) -> None:
    first, second, _ = opened(runtime)
    with pytest.raises(LifecycleError, match="becomes Void only with its credit note"):
        set_status(runtime, "acme", [second], "Void", actor="t")
    void(runtime, "acme", first, "t", "wrong")
    with pytest.raises(LifecycleError, match="is Void, which is final: it cannot become Closed"):
        set_status(runtime, "acme", [first], "Closed", actor="t")


def test_the_credit_a_voided_statement_used_is_granted_back(runtime) -> None:
    """A 100.00 grant pays 100.00 of customer 1002's statement; voiding it gives the
    100.00 back as a new grant: balance 0.00 -> 100.00, and the credit note's credit
    line is +100.00 (the original's -100.00 negated)."""
    ingest(runtime, "acme", "aws")
    credits.grant(runtime, "acme", "1002", "100", "goodwill", "t")
    (draft,) = generate(
        runtime, "acme", "aws", OCTOBER, customer_ids=["1002"], today=AFTER_CLOSE
    ).generated
    (statement,) = approve(runtime, "acme", [draft.id], actor="t")
    with runtime.db.transaction() as session:
        assert credits.balance(session, "acme", "1002", "USD") == Decimal("0.00")

    note = void(runtime, "acme", statement.number, "t", "wrong")

    with runtime.db.transaction() as session:
        assert credits.balance(session, "acme", "1002", "USD") == Decimal("100.00")
    _, lines = stored(runtime, note.number)
    assert [line[3] for line in lines if line[1] == "credit"] == [Decimal("100.00")]


def test_the_cli_prints_the_credit_note_number_and_exits_5_on_refusal(runtime) -> None:
    first, second, _ = opened(runtime)
    set_status(runtime, "acme", [second], "Closed", actor="t")
    state = State(None)
    state._runtime = runtime  # the fixture's runtime, not one from a settings file

    def run(*args: str):
        return CliRunner().invoke(statements_cli, ["void", "--tenant", "acme", *args], obj=state)

    done = run(first, "--reason", "wrong account")
    assert done.exit_code == 0, done.output
    assert done.output.strip() == "ACME-01004"
    refused = run(second, "--reason", "late")
    assert refused.exit_code == 5
    assert "ACME-01002 is Closed (paid)" in refused.output
    missing = run(first)
    assert missing.exit_code == 2 and "--reason" in missing.output


def test_voids_and_approvals_at_once_keep_numbers_unique_and_gapless(runtime) -> None:
    """Two statements approved, then at once: the third approved while both are voided
    (each void tried twice). Five numbers, 01001-01005, without gaps or repeats; each
    statement voided once."""
    ingest(runtime, "acme", "aws")
    drafts = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE).generated
    first, second = approve(runtime, "acme", [d.id for d in drafts[:2]], actor="t")
    outcomes: list[object] = []

    def voider(number: str) -> None:
        barrier.wait()
        try:
            outcomes.append(void(runtime, "acme", number, "t", "race"))
        except VoidError as exc:
            outcomes.append(exc)

    def approver() -> None:
        barrier.wait()
        outcomes.extend(approve(runtime, "acme", [drafts[2].id], actor="t"))

    threads = [threading.Thread(target=voider, args=(s.number,)) for s in (first, second) * 2]
    threads.append(threading.Thread(target=approver))
    barrier = threading.Barrier(len(threads))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert numbers(runtime) == [f"ACME-0100{n}" for n in range(1, 6)]
    assert sum(isinstance(o, VoidError) for o in outcomes) == 2
    with runtime.db.transaction() as session:
        kinds = sorted(s.kind for s in session.scalars(select(m.Statement)))
        assert len(session.scalars(select(m.OutboxEntry)).all()) == 5
    assert kinds == ["credit-note", "credit-note", "usage", "usage", "usage"]


def test_the_credit_note_is_delivered_by_the_outbox_with_its_negative_total(runtime) -> None:
    """The example tenant's csv sink receives the credit note like any approved statement."""
    from connector.pipeline.publish.publish import push

    first, *_ = opened(runtime)
    push(runtime, "acme")  # the three invoices
    original, _ = stored(runtime, first)
    note = void(runtime, "acme", first, "t", "wrong")

    [outcome] = push(runtime, "acme")
    assert (outcome.number, outcome.state) == (note.number, "delivered"), outcome.message
    credit, _ = stored(runtime, note.number)
    assert credit.total == -original.total < 0


def test_after_a_void_the_period_is_billed_again_by_a_new_statement(runtime) -> None:
    """ACME-01001 voided (credit note ACME-01004); generating October again builds a
    corrected Draft for 1001 only, as part 1 with the same total (the data did not
    change), and reconciliation reads that one, not the voided original."""
    from connector.pipeline.reconcile.reconcile import reconcile

    first, *_ = opened(runtime)
    original, _ = stored(runtime, first)
    void(runtime, "acme", first, actor="t", reason="wrong PO number", today=VOIDED_ON)
    report = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    (again,) = report.generated
    assert (again.customer_id, again.kind, again.part, again.status) == ("1001", "usage", 1,
                                                                          "Draft")  # fmt: skip
    assert again.total == original.total
    assert sorted(reason for _, reason in report.skipped) == [
        "already Open as ACME-01002", "already Open as ACME-01003",
    ]  # fmt: skip
    row = next(c for c in reconcile(runtime, "acme", "aws", OCTOBER).customers
               if c.customer_id == "1001")  # fmt: skip
    assert row.statement.id == again.id
