"""``connector webhooks``: see the events sent to the tenant's endpoints, send them again."""

from __future__ import annotations

from dataclasses import asdict

import click
from rich.table import Table

from connector.cli.output import console, print_json
from connector.cli.support import (
    EXIT_PLUGIN,
    State,
    cli_actor,
    fail,
    handle_errors,
    pass_state,
    tenant_option,
)
from connector.pipeline.publish.webhooks import STATES, Delivery

endpoint_option = click.option("--endpoint", help="Only this endpoint (webhooks[].name).")


@click.group()
def webhooks() -> None:
    """Signed events to webhooks."""


@webhooks.command("list")
@tenant_option
@click.option("--state", "states", multiple=True, type=click.Choice(STATES))
@endpoint_option
@click.option("--json", "as_json", is_flag=True)
@pass_state
@handle_errors
def list_deliveries(
    state: State, tenant: str, states: tuple[str, ...], endpoint: str | None, as_json: bool
) -> None:
    """The tenant's webhook deliveries, oldest first, with each one's last answer."""
    from connector.pipeline.publish.webhooks import deliveries

    rows = deliveries(state.runtime(), tenant, states, endpoint)
    if as_json:
        print_json([asdict(row) for row in rows])
    else:
        console.print(_table(rows))


def _table(rows: list[Delivery]) -> Table:
    """One line a delivery: the event by the start of its id, and its last answer."""
    table = Table("event", "type", "endpoint", "state", "attempts", "next attempt", "answer")
    for row in rows:
        answer = row.last_error or (f"HTTP {row.last_status}" if row.last_status else "")
        when = str(row.next_attempt_at or "")
        table.add_row(row.event_id[:8], row.event_type, row.endpoint, row.state,
                      str(row.attempts), when, answer)  # fmt: skip
    return table


@webhooks.command()
@tenant_option
@endpoint_option
@click.argument("events", nargs=-1)
@pass_state
@handle_errors
def retry(state: State, tenant: str, endpoint: str | None, events: tuple[str, ...]) -> None:
    """Send events again now (event ids or their starts; none: every dead delivery).
    A delivered event is sent again too: receivers de-duplicate on its id."""
    from connector.pipeline.publish.webhooks import retry as run_retry

    done = run_retry(state.runtime(), tenant, events, actor=cli_actor(), endpoint=endpoint)
    console.print(f"{len(done)} event{'' if len(done) == 1 else 's'} pending again")


@webhooks.command()
@tenant_option
@click.argument("endpoint")
@pass_state
@handle_errors
def test(state: State, tenant: str, endpoint: str) -> None:
    """Send a signed webhook.test event to ENDPOINT now and show its answer."""
    from connector.pipeline.publish.webhooks import send_test

    sent = send_test(state.runtime(), tenant, endpoint, actor=cli_actor())
    if sent.state not in ("delivered", "in_flight"):
        fail(EXIT_PLUGIN, f"webhook.test {sent.event_id} to {endpoint}: {sent.message}")
    console.print(f"webhook.test {sent.event_id} to {endpoint}: {sent.state} ({sent.message})")
