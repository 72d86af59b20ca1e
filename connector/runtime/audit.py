"""The audit trail: who changed what, when; written with the change, logged once it holds.

:func:`record` adds an entry in the caller's transaction and logs it (logger
``connector.audit``, one line with tenant, actor, action and subject as fields) only
after that transaction commits: a change rolled back is neither in the trail nor in
the log. :func:`find_entries` reads the trail back for ``connector audit`` and
``GET /v1/audit``, with the filters both offer.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, event, func, insert, or_, select
from sqlalchemy.orm import Session

from connector.storage import models as m

log = logging.getLogger("connector.audit")

# Entries recorded in a session's open transaction, logged when it commits; the
# second key marks a session whose commit and rollback are listened to already.
_PENDING, _LISTENING = "connector.audit.pending", "connector.audit.listening"


def record(
    session: Session, tenant: str, actor: str, action: str, subject: str, detail: dict[str, Any]
) -> None:
    """Add an audit entry in the caller's transaction, so it lands only with the change."""
    record_many(session, tenant, actor, action, [(subject, detail)])


def record_many(
    session: Session,
    tenant: str,
    actor: str,
    action: str,
    entries: Sequence[tuple[str, dict[str, Any]]],
) -> None:
    """One audit entry per ``(subject, detail)`` of ``entries``, in one insert in the
    caller's transaction (an approval of thousands writes them as one statement, not as
    objects for the session to flush)."""
    if not entries:
        return
    session.execute(
        insert(m.AuditEntry),
        [{"tenant_id": tenant, "actor": actor, "action": action, "subject": subject,
          "detail": detail} for subject, detail in entries],
    )  # fmt: skip
    if not session.info.get(_LISTENING):
        session.info[_LISTENING] = True
        event.listen(session, "after_commit", _log_committed)
        event.listen(session, "after_rollback", _forget)
    pending = session.info.setdefault(_PENDING, [])
    pending += [(tenant, actor, action, subject, d.get("number")) for subject, d in entries]


def _log_committed(session: Session) -> None:
    for tenant, actor, action, subject, number in session.info.pop(_PENDING, ()):
        fields = {"audit": True, "actor": actor, "action": action, "subject": subject}
        named = subject
        if isinstance(number, str):
            fields["number"], named = number, f"{subject} ({number})"
        log.info("%s %s by %s", action, named, actor, extra={"tenant": tenant, "fields": fields})


def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What to read back; every filter given must hold (None: no filter).

    ``since`` is inclusive and ``until`` exclusive (:func:`parse_moment` turns a
    date given as ``until`` into the end of that day). ``action`` and ``actor`` match
    as prefixes (``statement`` finds ``statement.approve``, ``cli`` finds
    ``cli:alice``); ``statement`` is a statement's id, a prefix of it, or its invoice
    number.
    """

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    action: str | None = None
    actor: str | None = None
    statement: str | None = None


def parse_moment(text: str, *, end_of_day: bool = False) -> dt.datetime:
    """A filter bound from a date (``2026-11-06``) or an ISO timestamp, in UTC.

    A timestamp without an offset is read as UTC (the trail is stored in UTC). With
    ``end_of_day``, a plain date means the start of the next day, so ``until`` a date
    includes that date.

    :raises ValueError: neither form, naming the text and the forms accepted.
    """
    value = text.strip()
    try:
        if len(value) == 10:
            moment = dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), dt.UTC)
            return _clamped(moment, dt.timedelta(days=1) if end_of_day else dt.timedelta())
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date or a timestamp: use YYYY-MM-DD or an ISO 8601 "
            "timestamp such as 2026-11-06T14:30:00Z"
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return _clamped(moment, dt.timedelta())


def _clamped(moment: dt.datetime, later: dt.timedelta) -> dt.datetime:
    """``moment + later`` in UTC; past the calendar's ends, its first or last moment."""
    try:
        return (moment + later).astimezone(dt.UTC)
    except OverflowError:
        end = dt.datetime.min if moment.year == dt.MINYEAR else dt.datetime.max
        return end.replace(tzinfo=dt.UTC)


def _statement_match(tenant: str, ident: str) -> Any:
    """Entries about one statement: its id (a deleted Draft's too), a prefix of its id,
    or its invoice number (a statement's entries name it by id)."""
    numbered = select(m.Statement.id).where(
        m.Statement.tenant_id == tenant, m.Statement.number == ident
    )
    prefix = m.AuditEntry.action.startswith("statement.") & m.AuditEntry.subject.startswith(
        ident, autoescape=True
    )
    return or_(m.AuditEntry.subject == ident, m.AuditEntry.subject.in_(numbered), prefix)


def _query(tenant: str, wanted: AuditFilter) -> Select:
    query = select(m.AuditEntry).where(m.AuditEntry.tenant_id == tenant)
    if wanted.since is not None:
        query = query.where(m.AuditEntry.at >= wanted.since)
    if wanted.until is not None:
        query = query.where(m.AuditEntry.at < wanted.until)
    if wanted.action:
        query = query.where(m.AuditEntry.action.startswith(wanted.action, autoescape=True))
    if wanted.actor:
        query = query.where(m.AuditEntry.actor.startswith(wanted.actor, autoescape=True))
    if wanted.statement:
        query = query.where(_statement_match(tenant, wanted.statement))
    return query


def find_entries(
    session: Session, tenant: str, wanted: AuditFilter, limit: int = 50, offset: int = 0
) -> tuple[list[m.AuditEntry], int]:
    """The tenant's entries matching ``wanted``, newest first, and how many match in all."""
    query = _query(tenant, wanted)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(m.AuditEntry.at.desc(), m.AuditEntry.id.desc())
    return list(session.scalars(page.offset(offset).limit(limit))), total
