"""Statement lifecycle: Open → Closed | Past Due → Closed; nothing else by set_status."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from connector.domain.periods import parse_period
from connector.pipeline.build.build import generate
from connector.pipeline.ingest.ingest import ingest
from connector.pipeline.review.approve import approve
from connector.pipeline.review.lifecycle import LEGAL_NEXT, LifecycleError, set_status
from connector.storage import models as m

OCTOBER = parse_period("2026-10")
AFTER_CLOSE = dt.date(2026, 11, 6)


def drafts(runtime) -> list[m.Statement]:
    ingest(runtime, "acme", "aws")
    return generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE).generated


def opened(runtime) -> list[str]:
    """The three October statements, approved: ACME-01001, ACME-01002, ACME-01003."""
    drafts(runtime)
    return sorted(s.number for s in approve(runtime, "acme", None, actor="t"))


def statuses(runtime) -> dict[str, str]:
    with runtime.db.transaction() as session:
        return {s.number or s.id: s.status for s in session.scalars(select(m.Statement))}


def status_audit(runtime) -> list[tuple[str, str, str, str]]:
    with runtime.db.transaction() as session:
        rows = session.scalars(
            select(m.AuditEntry)
            .where(m.AuditEntry.action == "statement.status")
            .order_by(m.AuditEntry.id)
        )
        return [(a.actor, a.detail["number"], a.detail["from"], a.detail["to"]) for a in rows]


def test_legal_next_statuses() -> None:
    assert LEGAL_NEXT("Draft") == ["Open"]
    assert LEGAL_NEXT("Open") == ["Past Due", "Closed"]
    assert LEGAL_NEXT("Past Due") == ["Closed"]
    assert LEGAL_NEXT("Closed") == []


def test_every_legal_transition_works_and_is_audited(runtime) -> None:
    first, second, _ = opened(runtime)
    changed = set_status(runtime, "acme", [first], "Closed", actor="ann")
    assert [s.status for s in changed] == ["Closed"]
    set_status(runtime, "acme", [second], "Past Due", actor="bob")
    set_status(runtime, "acme", [second], "Closed", actor="ann")
    assert statuses(runtime) == {
        "ACME-01001": "Closed",
        "ACME-01002": "Closed",
        "ACME-01003": "Open",
    }
    assert status_audit(runtime) == [
        ("ann", "ACME-01001", "Open", "Closed"),
        ("bob", "ACME-01002", "Open", "Past Due"),
        ("ann", "ACME-01002", "Past Due", "Closed"),
    ]


def test_setting_the_status_a_statement_has_changes_nothing(runtime) -> None:
    first, _, _ = opened(runtime)
    set_status(runtime, "acme", [first], "Closed", actor="ann")
    set_status(runtime, "acme", [first], "Closed", actor="ann")  # the ERP says paid twice
    assert status_audit(runtime) == [("ann", "ACME-01001", "Open", "Closed")]


def test_a_draft_becomes_open_only_by_approval(runtime) -> None:
    draft = drafts(runtime)[0]
    for wanted in ("Open", "Closed", "Past Due"):
        with pytest.raises(LifecycleError) as refused:
            set_status(runtime, "acme", [draft.id], wanted, actor="ann")
        message = str(refused.value)
        assert f"usage invoice {draft.id} is Draft" in message
        assert "only by approval" in message and "connector statements approve" in message
    assert set(statuses(runtime).values()) == {"Draft"}


@pytest.mark.parametrize(
    ("path", "wanted", "legal"),
    [
        (["Closed"], "Open", "final"),
        (["Closed"], "Past Due", "final"),
        ([], "Draft", "for a usage invoice in Open are Past Due, Closed, Void by voiding"),
        (["Past Due"], "Open", "for a usage invoice in Past Due are Closed, Void by voiding"),
        (["Past Due"], "Draft", "for a usage invoice in Past Due are Closed, Void by voiding"),
    ],
)
def test_illegal_changes_are_refused_naming_what_is_legal(
    runtime, path: list[str], wanted: str, legal: str
) -> None:
    first, _, _ = opened(runtime)
    for status in path:
        set_status(runtime, "acme", [first], status, actor="ann")
    current = path[-1] if path else "Open"
    with pytest.raises(LifecycleError) as refused:
        set_status(runtime, "acme", [first], wanted, actor="ann")
    message = str(refused.value)
    assert f"usage invoice ACME-01001 is {current}" in message
    assert f"cannot become {wanted}" in message and legal in message
    assert statuses(runtime)["ACME-01001"] == current


def test_a_refused_change_in_a_batch_leaves_the_others_unchanged(runtime) -> None:
    first, second, third = opened(runtime)
    set_status(runtime, "acme", [second], "Closed", actor="ann")
    with pytest.raises(LifecycleError, match="ACME-01002 is Closed"):
        set_status(runtime, "acme", [first, second, third], "Past Due", actor="ann")
    assert statuses(runtime) == {
        "ACME-01001": "Open",
        "ACME-01002": "Closed",
        "ACME-01003": "Open",
    }
    assert status_audit(runtime) == [("ann", "ACME-01002", "Open", "Closed")]


def test_an_unknown_status_is_refused(runtime) -> None:
    first, _, _ = opened(runtime)
    with pytest.raises(LifecycleError, match="unknown status 'Paid'"):
        set_status(runtime, "acme", [first], "Paid", actor="ann")
