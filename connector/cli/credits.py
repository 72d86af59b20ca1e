"""``connector credits``: grant customer credits and see what is left of them."""

from __future__ import annotations

from decimal import Decimal

import click
from rich.table import Table

from connector.cli.output import console, money, print_json
from connector.cli.support import State, cli_actor, handle_errors, pass_state, tenant_option


def _plain(amount: Decimal) -> str:
    # Fixed-point: str() would write a tiny credit as 1E-10, which scripts misread.
    return f"{amount:f}"


@click.group()
def credits() -> None:
    """Customer credits: grant them, list balances."""


@credits.command()
@tenant_option
@click.option("--customer", required=True, help="Customer id from the tenant file.")
@click.option(
    "--amount", required=True, help="A plain positive number like 150.00: no commas, no sign."
)
@click.option(
    "--comment",
    required=True,
    help="Which cloud account and what the credit is for (combined credits: how they add up).",
)
@click.option(
    "--currency",
    help="ISO 4217 code; must be the customer's invoice currency [that currency].",
)
@click.option(
    "--idempotency-key",
    help="Any unique text, e.g. a ticket id or UUID: running the command again with the "
    "same key grants nothing more and prints the first grant.",
)
@pass_state
@handle_errors
def add(
    state: State,
    tenant: str,
    customer: str,
    amount: str,
    comment: str,
    currency: str | None,
    idempotency_key: str | None,
) -> None:
    """Grant a credit to a customer; it pays their next statements until used up.

    The amount may have no more decimals than the currency has (2 for USD, none for
    JPY). Retrying with the same --idempotency-key applies the credit once; the same
    key with a different amount, currency, customer or comment is refused.
    """
    from connector.domain.money import tidy
    from connector.pipeline.credits import grant_credit

    runtime = state.runtime()
    granted = grant_credit(
        runtime, tenant, customer, amount, comment, cli_actor(), currency, idempotency_key
    )
    entry = granted.entry
    amount_text = f"{money(tidy(entry.amount, entry.currency))} {entry.currency}"
    left = f"{money(granted.balance)} {entry.currency}"
    if granted.replayed:
        console.print(
            f"already granted under idempotency key {idempotency_key}: {amount_text} to "
            f"customer {entry.customer_id} (entry {entry.id}); nothing granted now; balance "
            f"after that grant {left}",
            highlight=False,
        )
        return
    console.print(
        f"granted {amount_text} to customer {entry.customer_id}; balance {left}",
        highlight=False,
    )


@credits.command("list")
@tenant_option
@click.option("--customer", help="Only this customer id.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
@handle_errors
def list_credits(state: State, tenant: str, customer: str | None, as_json: bool) -> None:
    """Granted, applied and remaining credit per customer and currency."""
    from connector.pipeline.credits import CreditError, balances

    runtime = state.runtime()
    config = runtime.tenant(tenant)
    if customer is not None and customer not in {c.id for c in config.customers}:
        raise CreditError(f"tenant {tenant} has no customer {customer}")
    with runtime.db.transaction() as session:
        rows = [b for b in balances(session, tenant) if customer in (None, b.customer_id)]
    if as_json:
        print_json(
            [
                {
                    "customer": b.customer_id,
                    "currency": b.currency,
                    "granted": _plain(b.granted),
                    "applied": _plain(b.applied),
                    "balance": _plain(b.balance),
                }
                for b in rows
            ]
        )
        return
    table = Table("customer", "currency", "granted", "applied", "balance")
    for b in rows:
        table.add_row(
            b.customer_id,
            b.currency,
            money(b.granted),
            money(b.applied),
            money(b.balance),
        )
    console.print(table)
