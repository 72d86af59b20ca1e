"""Which status a statement may take next, by document type: the one lifecycle rule.

A statement is an invoice (kind ``usage`` or ``purchase``) or a credit note (kind
``credit-note``, issued by voiding an invoice). The CLI's ``set-status``, the API,
the review page, approval, voiding and the daemon's Past Due step all ask this table,
so none of them can allow what another refuses: before it, ``set-status`` accepted
"Past Due" for a credit note while the daemon rightly never made one Past Due.

Each transition names the one operation that performs it, because two of them do
more than change a status: approval hands out the invoice number and queues the ERP
push, voiding issues the credit note. ``set-status`` performs the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

DRAFT = "Draft"
OPEN = "Open"
PAST_DUE = "Past Due"
CLOSED = "Closed"
VOID = "Void"
STATUSES = (DRAFT, OPEN, PAST_DUE, CLOSED, VOID)

USAGE = "usage"
PURCHASE = "purchase"
CREDIT_NOTE = "credit-note"

# The operations that move a statement, as the refusals name them.
APPROVAL = "approval"
SET_STATUS = "set-status"
VOIDING = "void"


class Transition(NamedTuple):
    before: str
    after: str
    by: str  # APPROVAL, SET_STATUS or VOIDING: the only operation that performs it


# An invoice is approved (numbered, pushed), then paid or late, and corrected only by
# voiding it while something is still owed on it.
_INVOICE = (
    Transition(DRAFT, OPEN, APPROVAL),
    Transition(OPEN, PAST_DUE, SET_STATUS),
    Transition(OPEN, CLOSED, SET_STATUS),
    Transition(PAST_DUE, CLOSED, SET_STATUS),
    Transition(OPEN, VOID, VOIDING),
    Transition(PAST_DUE, VOID, VOIDING),
)
# A credit note is born Open (voiding issues it numbered) and is Closed once the ERP
# has it allocated or refunded. Nothing is due on it, so it is never Past Due, and it
# is not voided: a customer credited wrongly is billed again by a new statement.
_CREDIT_NOTE = (Transition(OPEN, CLOSED, SET_STATUS),)

TRANSITIONS: Mapping[str, tuple[Transition, ...]] = {
    USAGE: _INVOICE,
    PURCHASE: _INVOICE,
    CREDIT_NOTE: _CREDIT_NOTE,
}

DOCUMENT_TYPES: Mapping[str, str] = {
    USAGE: "usage invoice",
    PURCHASE: "purchase invoice",
    CREDIT_NOTE: "credit note",
}

# Why a change that looks plausible is not in the table, for the refusal.
_WHY_NOT: Mapping[tuple[str, str], str] = {
    (CREDIT_NOTE, PAST_DUE): "nothing is due on a credit note",
    (CREDIT_NOTE, VOID): "a credit note is not voided; bill the customer again with a new "
    "statement instead",
    (CREDIT_NOTE, DRAFT): "a credit note is issued Open and never becomes a Draft",
}


# What to do instead once a statement has no next status (other than Void).
_FINAL_FIX: Mapping[str, str] = {
    USAGE: " (a paid invoice stays paid: refund the customer in the ERP or grant a credit "
    "with connector credits add)",
    PURCHASE: " (a paid invoice stays paid: refund the customer in the ERP or grant a "
    "credit with connector credits add)",
    CREDIT_NOTE: " (a settled credit note stays settled; bill the customer again with a "
    "new statement)",
}


def transitions(kind: str) -> tuple[Transition, ...]:
    """The legal transitions of a statement of ``kind``; an unknown kind has none, so
    nothing moves a statement the rule does not know about."""
    return TRANSITIONS.get(kind, ())


def document_type(kind: str) -> str:
    """``usage invoice``, ``purchase invoice`` or ``credit note``: how messages name it."""
    return DOCUMENT_TYPES.get(kind, f"{kind} statement")


def next_statuses(kind: str, status: str, by: str | None = None) -> list[str]:
    """The statuses a ``kind`` statement in ``status`` may take next, in lifecycle
    order; only those ``by`` performs when it is given."""
    allowed = {t.after for t in transitions(kind) if t.before == status and by in (None, t.by)}
    return [s for s in STATUSES if s in allowed]


def allows(kind: str, before: str, after: str, by: str) -> bool:
    """Whether ``by`` may move a ``kind`` statement from ``before`` to ``after``."""
    return Transition(before, after, by) in transitions(kind)


def kinds_allowing(before: str, after: str, by: str = SET_STATUS) -> tuple[str, ...]:
    """The kinds whose statements ``by`` may move from ``before`` to ``after`` (for a
    query that picks the statements a step may change)."""
    return tuple(kind for kind in TRANSITIONS if allows(kind, before, after, by))


def describe_next(kind: str, status: str, tenant: str, name: str) -> str:
    """The legal transitions out of ``status`` in words, each with the way to make it."""
    parts = []
    for t in (t for t in transitions(kind) if t.before == status):
        if t.by == APPROVAL:
            parts.append(f"{t.after} by approval (connector statements approve --tenant {tenant})")
        elif t.by == VOIDING:
            parts.append(
                f"{t.after} by voiding, which issues its credit note "
                f"(connector statements void --tenant {tenant} {name} --reason ...)"
            )
        else:
            parts.append(t.after)
    return ", ".join(parts) if parts else "none"


def refusal(
    kind: str, status: str, wanted: str, *, name: str, ident: str, tenant: str, by: str
) -> str | None:
    """Why ``by`` may not move the ``kind`` statement ``name`` from ``status`` to
    ``wanted``; None when it may, or when ``set-status`` finds it in ``wanted`` already
    (the ERP reporting the same payment twice is harmless; approving twice is not).

    The message names the statement, its document type and status, and its legal
    transitions with the operation that performs each.
    """
    if allows(kind, status, wanted, by) or (status == wanted and by == SET_STATUS):
        return None
    what = f"{document_type(kind)} {name}"
    if kind not in TRANSITIONS:
        known = ", ".join(TRANSITIONS)
        return f"{what} has kind {kind!r}, which no status change knows (kinds: {known})"
    if status == wanted:
        legal = describe_next(kind, status, tenant, name)
        return f"{what} is {status} already; its legal next statuses are {legal}"
    if status == VOID:
        return f"{what} is Void, which is final: it cannot become {wanted}"
    if status == DRAFT and allows(kind, DRAFT, OPEN, APPROVAL):
        return (
            f"{what} is Draft; it becomes Open only by approval "
            f"(connector statements approve --tenant {tenant} {ident}), not {wanted}"
        )
    performer = next((t.by for t in transitions(kind) if t[:2] == (status, wanted)), None)
    if wanted == VOID and performer == VOIDING:
        return (
            f"{what} is {status}; it becomes Void only with its credit note "
            f"(connector statements void --tenant {tenant} {name} --reason ...)"
        )
    if performer is not None:
        return f"{what} is {status}; it becomes {wanted} only by {performer}, not by {by}"
    why = _WHY_NOT.get((kind, wanted))
    because = f" ({why})" if why else ""
    if not next_statuses(kind, status):
        fix = _FINAL_FIX.get(kind, "")
        return f"{what} is {status}, which is final: it cannot become {wanted}{because}{fix}"
    legal = describe_next(kind, status, tenant, name)
    return (
        f"{what} is {status}; it cannot become {wanted}{because}: legal next statuses for a "
        f"{document_type(kind)} in {status} are {legal}"
    )
