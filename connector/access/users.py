"""People who sign in to the web pages: roles, argon2 password hashes, disabling.

API keys are for machines (connector.access.api_keys); a person signs in with a name
and a password, chosen by a person and so guessable: hence argon2id (argon2-cffi's
defaults, RFC 9106's second recommendation) rather than the fast hash keys use.

Roles: ``operator`` (everything), ``reviewer`` (may approve Drafts), ``read-only``
(sees, changes nothing), ``customer`` (one customer's statements in the portal).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from connector.access.roles import role_problem
from connector.runtime.audit import record
from connector.runtime.runtime import Runtime
from connector.runtime.tenants import sync_tenant
from connector.storage import models as m
from connector.storage.models import utcnow

ROLES = ("operator", "reviewer", "read-only", "customer")
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MIN_PASSWORD = 12
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the name is unknown, so that case takes as long as a wrong
    password (made on first use: importing this module costs no hashing)."""
    return _hasher.hash("no such user")


class UserError(ValueError):
    """A user cannot be made or changed; the message says what would be valid."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A user whose password was just verified (never the password or its hash)."""

    id: int
    name: str
    role: str
    tenant: str
    customer_id: str | None


def hash_password(password: str) -> str:
    """The stored form of a password: an argon2id hash with its own salt."""
    return _hasher.hash(password)


def password_matches(stored: str, password: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from (constant time)."""
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password has {len(password)} characters: use at least {MIN_PASSWORD}")
    return password


def add_user(
    runtime: Runtime,
    tenant: str,
    name: str,
    role: str,
    password: str,
    customer_id: str | None = None,
    actor: str = "cli",
) -> SignedIn:
    """Make a user of ``tenant``; a ``customer`` user needs the customer it may see."""
    config = runtime.tenant(tenant)
    if not NAME_PATTERN.fullmatch(name):
        raise UserError(
            f"user name {name!r} is not valid: 1 to 64 letters, digits or . _ @ -, "
            "starting with a letter or digit"
        )
    problem = role_problem("user", "role", role, ROLES, customer_id, config)
    if problem:
        raise UserError(problem)
    check_password(password)
    with runtime.db.transaction() as session:
        if session.scalar(select(m.User.id).where(m.User.name == name)) is not None:
            raise UserError(f"there is a user {name!r} already: see `connector users list`")
        sync_tenant(session, config)  # the user row refers to the tenant row
        user = m.User(
            tenant_id=tenant,
            name=name,
            password_hash=hash_password(password),
            role=role,
            customer_id=customer_id,
        )
        session.add(user)
        session.flush()
        record(session, tenant, actor, "user.add", f"user:{name}",
               {"role": role, "customer": customer_id})  # fmt: skip
        return SignedIn(user.id, name, role, tenant, customer_id)


def sign_in(runtime: Runtime, name: str, password: str) -> SignedIn | None:
    """The user ``name`` when ``password`` is its password and it is not disabled;
    None otherwise (the caller cannot tell which)."""
    with runtime.db.transaction() as session:
        user = session.scalar(select(m.User).where(m.User.name == name)) if name else None
        ok = password_matches(user.password_hash if user else _dummy_hash(), password)
        if not ok or user is None or user.disabled_at is not None:
            return None
        if user.tenant_id not in runtime.tenants:
            return None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        return SignedIn(user.id, user.name, user.role, user.tenant_id, user.customer_id)


def list_users(runtime: Runtime, tenant: str) -> list[m.User]:
    """The tenant's users, disabled ones included, by name."""
    runtime.tenant(tenant)
    with runtime.db.transaction() as session:
        return list(
            session.scalars(select(m.User).where(m.User.tenant_id == tenant).order_by(m.User.name))
        )


def _user(session, tenant: str, name: str) -> m.User:  # noqa: ANN001
    user = session.scalar(select(m.User).where(m.User.name == name, m.User.tenant_id == tenant))
    if user is None:
        raise UserError(
            f"tenant {tenant!r} has no user {name!r}: see `connector users list --tenant {tenant}`"
        )
    return user


def disable_user(runtime: Runtime, tenant: str, name: str, actor: str = "cli") -> m.User:
    """Disable a user: it can no longer sign in, and its open sessions end."""
    runtime.tenant(tenant)
    with runtime.db.transaction() as session:
        user = _user(session, tenant, name)
        if user.disabled_at is None:
            user.disabled_at = utcnow()
            record(session, tenant, actor, "user.disable", f"user:{name}", {})
        return user


def reset_password(
    runtime: Runtime, tenant: str, name: str, password: str, actor: str = "cli"
) -> m.User:
    """Give a user a new password (and enable it again if it was disabled)."""
    runtime.tenant(tenant)
    check_password(password)
    with runtime.db.transaction() as session:
        user = _user(session, tenant, name)
        user.password_hash = hash_password(password)
        user.disabled_at = None
        record(session, tenant, actor, "user.reset", f"user:{name}", {})
        return user
