"""The audit trail: who changed what, when."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from connector.storage import models as m


def record(
    session: Session, tenant: str, actor: str, action: str, subject: str, detail: dict[str, Any]
) -> None:
    """Add an audit entry in the caller's transaction, so it lands only with the change."""
    session.add(
        m.AuditEntry(tenant_id=tenant, actor=actor, action=action, subject=subject, detail=detail)
    )
