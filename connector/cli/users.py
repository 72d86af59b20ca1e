"""``connector users`` (add, list, disable, reset): people who sign in to the web pages.

Passwords are read from a hidden prompt (asked twice) or, for scripts, from standard
input with ``--password-stdin``; never from an argument, which ``ps`` and shell
history would show.
"""

from __future__ import annotations

import sys

import click

from connector.access.users import ROLES, UserError
from connector.cli.output import Column, console, print_listing, to_the_minute
from connector.cli.support import State, cli_actor, handle_errors, pass_state, tenant_option

password_stdin = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of a prompt.",
)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


USER_COLUMNS = (
    Column("name", "name", whole=True),
    Column("role", "role"),
    Column("customer", "customer", "customer_id"),
    Column("created_at", "created", cell=to_the_minute),
    Column("disabled_at", "disabled", cell=to_the_minute),
)


@click.group("users")
def users() -> None:
    """People who sign in to the web pages: operator, reviewer, read-only or customer."""


@users.command()
@tenant_option
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice(ROLES),
    help="operator: everything; reviewer: may approve; read-only: sees only; "
    "customer: one customer's statements in the portal.",
)
@click.option("--customer", help="With --role customer: the customer id the user may see.")
@password_stdin
@pass_state
@handle_errors
def add(
    state: State, tenant: str, name: str, role: str, customer: str | None, password_stdin: bool
) -> None:
    """Make a user; only an argon2 hash of its password is stored."""
    from connector.access.users import add_user

    try:
        add_user(state.runtime(), tenant, name, role, _password(password_stdin), customer,
                 cli_actor())  # fmt: skip
    except UserError as exc:
        raise click.UsageError(str(exc)) from None
    console.print(
        f"User {name} of tenant {tenant}, role {role}"
        + (f", customer {customer}" if customer else ""),
        highlight=False,
    )


@users.command("list")
@tenant_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
@handle_errors
def list_users(state: State, tenant: str, as_json: bool) -> None:
    """The tenant's users, disabled ones included; never their password hashes."""
    from connector.access.users import list_users as run_list

    print_listing(run_list(state.runtime(), tenant), USER_COLUMNS, as_json)


@users.command()
@tenant_option
@click.argument("name")
@pass_state
@handle_errors
def disable(state: State, tenant: str, name: str) -> None:
    """Disable a user: it cannot sign in, and its open sessions end."""
    from connector.access.users import disable_user

    try:
        disable_user(state.runtime(), tenant, name, cli_actor())
    except UserError as exc:
        raise click.UsageError(str(exc)) from None
    console.print(f"User {name} of tenant {tenant} is disabled", highlight=False)


@users.command()
@tenant_option
@click.argument("name")
@password_stdin
@pass_state
@handle_errors
def reset(state: State, tenant: str, name: str, password_stdin: bool) -> None:
    """Give a user a new password (enabling it again if it was disabled)."""
    from connector.access.users import reset_password

    try:
        reset_password(state.runtime(), tenant, name, _password(password_stdin), cli_actor())
    except UserError as exc:
        raise click.UsageError(str(exc)) from None
    console.print(f"User {name} of tenant {tenant} has a new password", highlight=False)
