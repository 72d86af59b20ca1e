"""Statement lifecycle after approval: Open → Closed (paid) or Past Due → Closed.

Draft → Open belongs to approval alone, because it hands out the invoice number and
queues the ERP push; Open or Past Due → Void belongs to ``pipeline.review.void`` alone, because
it issues the credit note. Every other change goes through ``set_status``. Which
changes are legal for an invoice and for a credit note is ``domain.status_rules``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from connector.domain import status_rules as rules
from connector.pipeline.review.approve import find_statements
from connector.runtime import webhook_events
from connector.runtime.audit import record
from connector.runtime.runtime import Runtime
from connector.storage import models as m

# The table itself lives in ``domain.status_rules``, one rule for every caller; these
# names stay for the callers that import them from here.
VOID = rules.VOID
STATUSES = rules.STATUSES


class LifecycleError(ValueError):
    """A status change the lifecycle does not allow; the message names the way forward."""


def LEGAL_NEXT(status: str, kind: str = rules.USAGE) -> list[str]:  # noqa: N802 (callers' name)
    """The statuses a ``kind`` statement in ``status`` may move to next, in lifecycle order.

    A Draft's only next status is Open, reached by approval rather than set_status.
    Void, reached only by voiding (which issues a credit note), is not listed here.
    """
    return [
        to
        for to in rules.next_statuses(kind, status)
        if not rules.allows(kind, status, to, rules.VOIDING)
    ]


def _refusal(statement: m.Statement, wanted: str, tenant: str) -> str | None:
    return rules.refusal(
        statement.kind,
        statement.status,
        wanted,
        name=statement.number or statement.id,
        ident=statement.id,
        tenant=tenant,
        by=rules.SET_STATUS,
    )


def set_status(
    runtime: Runtime, tenant: str, ids: Sequence[str], status: str, actor: str
) -> list[m.Statement]:
    """Move statements (by id, unique start of an id, or number) to ``status``, all of
    them or none.

    A statement already in ``status`` is left as it is, so repeating a change (the ERP
    reporting the same payment twice) is harmless. Every refusal is reported at once.
    """
    config = runtime.tenant(tenant)
    if status not in STATUSES:
        raise LifecycleError(f"unknown status {status!r}: one of {', '.join(STATUSES)}")
    with runtime.db.transaction() as session:
        # The same statement named twice (id and number) is changed once.
        found = list(dict.fromkeys(find_statements(session, tenant, ids)))
        # Lock the rows (in id order, so two batches cannot deadlock) and re-read their
        # status: a concurrent change must not slip in between the check and the write.
        session.scalars(
            select(m.Statement)
            .where(m.Statement.id.in_(sorted({s.id for s in found})))
            .order_by(m.Statement.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        problems = [p for s in found if (p := _refusal(s, status, tenant))]
        if problems:
            raise LifecycleError("\n".join(dict.fromkeys(problems)))
        for statement in found:
            if statement.status == status:
                continue
            previous, statement.status = statement.status, status
            record(
                session,
                tenant,
                actor,
                "statement.status",
                statement.id,
                {"number": statement.number, "from": previous, "to": status},
            )
            webhook_events.record_status(session, config, statement)
    return found
