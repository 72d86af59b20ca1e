"""``connector erp`` (connect, check, new-key) and ``connector outbox`` (list, retry)."""

from __future__ import annotations

import secrets
import sys
from dataclasses import asdict

import click
from rich.table import Table

from connector.cli.output import console, print_json
from connector.cli.support import EXIT_PLUGIN, State, handle_errors, pass_state, tenant_option
from connector.pipeline.publish.outbox import STATES


@click.group()
def erp() -> None:
    """The tenant's accounting system: connect it, check its mappings."""


@erp.command("new-key")
def new_key() -> None:
    """Print a new key for encrypting ERP tokens (set it as CONNECTOR_TOKEN_KEY)."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode())


@erp.command()
@tenant_option
@click.option(
    "--redirect-url",
    help="The address the browser was sent to after signing in (asked for when omitted).",
)
@click.option("--state", "given_state", help="The state of an authorisation URL printed before.")
@pass_state
@handle_errors
def connect(state: State, tenant: str, redirect_url: str | None, given_state: str | None) -> None:
    """Connect the tenant's ERP organisation (OAuth2): sign in, paste the redirect URL."""
    from connector.pipeline.publish.erp import connect as run_connect
    from connector.pipeline.publish.erp import connect_url

    runtime = state.runtime()
    oauth_state = given_state or secrets.token_urlsafe(24)
    if redirect_url is None:
        console.print("Open this address, sign in and allow access:", highlight=False)
        click.echo(connect_url(runtime, tenant, oauth_state))
        redirect_url = click.prompt("Paste the address the browser was sent to")
    key = run_connect(runtime, tenant, redirect_url, oauth_state)
    console.print(f"connected: token {key} stored encrypted for tenant {tenant}")


@erp.command()
@tenant_option
@pass_state
@handle_errors
def check(state: State, tenant: str) -> None:
    """Check that the ERP has every mapping the undelivered statements need."""
    from connector.pipeline.publish.erp import preflight

    gaps = preflight(state.runtime(), tenant)
    for gap in gaps:
        console.print(f"[red]missing[/]: {gap}", highlight=False)
    if gaps:
        sys.exit(EXIT_PLUGIN)
    console.print("every mapping the statements need is in the ERP")


@click.group()
def outbox() -> None:
    """Deliveries to the ERP: what is pending, delivered, failing or dead."""


@outbox.command("list")
@tenant_option
@click.option("--state", "states", multiple=True, type=click.Choice(STATES))
@click.option("--json", "as_json", is_flag=True)
@pass_state
@handle_errors
def list_entries(state: State, tenant: str, states: tuple[str, ...], as_json: bool) -> None:
    """The tenant's outbox, oldest first (dead entries show the ERP's own message)."""
    from connector.pipeline.publish.outbox import entries

    rows = entries(state.runtime(), tenant, states)
    if as_json:
        print_json([asdict(row) for row in rows])
        return
    table = Table("number", "customer", "sink", "state", "attempts", "next attempt", "message")
    for row in rows:
        message = row.last_error or (f"remote id {row.remote_id}" if row.remote_id else "")
        table.add_row(row.number or row.statement_id, row.customer_id, row.sink, row.state,
                      str(row.attempts), str(row.next_attempt_at or ""), message)  # fmt: skip
    console.print(table)


@outbox.command()
@tenant_option
@click.argument("refs", nargs=-1)
@pass_state
@handle_errors
def retry(state: State, tenant: str, refs: tuple[str, ...]) -> None:
    """Send dead or failed entries again now (invoice numbers or statement ids; none: all
    dead ones)."""
    from connector.pipeline.publish.outbox import retry as run_retry

    done = run_retry(state.runtime(), tenant, refs, actor="cli")
    console.print(f"{len(done)} entr{'y' if len(done) == 1 else 'ies'} pending again")
