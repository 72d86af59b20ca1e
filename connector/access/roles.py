"""What a new API key or user may act as: a scope or role, and for a customer one the
one customer it may see."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connector.config.tenant import TenantConfig


def role_problem(
    noun: str, field: str, value: str, allowed: Sequence[str], customer_id: str | None,
    config: TenantConfig,
) -> str | None:  # fmt: skip
    """Why a ``noun`` ("key", "user") whose ``field`` is ``value`` cannot be made with
    ``customer_id``, or None: a customer one names a customer of the tenant, no other does."""
    if value not in allowed:
        return f"{field} {value!r} is not one of {', '.join(allowed)}"
    if value == "customer":
        if not customer_id:
            return f"a customer {noun} needs --customer: the one customer it may see"
        if customer_id not in {c.id for c in config.customers}:
            return f"tenant {config.tenant!r} has no customer {customer_id!r}"
    elif customer_id:
        return f"--customer is only for customer {noun}s, not {value} {noun}s"
    return None
