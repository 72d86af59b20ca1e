"""Whether the API key or user a web session was made with still stands: a session
lives only as long as its key is not revoked and its user not disabled."""

from __future__ import annotations

from connector.runtime.runtime import Runtime
from connector.storage import models as m


def key_is_active(runtime: Runtime, key_id: str) -> bool:
    """Whether ``key_id`` exists and is not revoked."""
    return _not_ended(runtime, m.ApiKey, key_id, "revoked_at")


def user_is_active(runtime: Runtime, user_id: int) -> bool:
    """Whether the user exists and is not disabled."""
    return _not_ended(runtime, m.User, user_id, "disabled_at")


def _not_ended(runtime: Runtime, model: type[m.Base], ident: object, ended_at: str) -> bool:
    with runtime.db.transaction() as session:
        row = session.get(model, ident)
        return row is not None and getattr(row, ended_at) is None
