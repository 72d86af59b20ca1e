"""``connector api-keys`` (create, list, revoke) and ``connector serve`` (the API)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from rich.table import Table

from connector.access.api_keys import SCOPES, ApiKeyError
from connector.cli.support import (
    State,
    cli_actor,
    console,
    handle_errors,
    pass_state,
    print_json,
    tenant_option,
)

if TYPE_CHECKING:
    from connector.runtime.runtime import Runtime


def _when(value) -> str:  # type: ignore[no-untyped-def]
    return "" if value is None else f"{value:%Y-%m-%d %H:%M}"


@click.group("api-keys")
def api_keys() -> None:
    """Billing API keys: one tenant each, scope read, operator or customer."""


@api_keys.command()
@tenant_option
@click.option(
    "--scope",
    required=True,
    type=click.Choice(SCOPES),
    help="read: read everything; operator: also change things; customer: one customer's "
    "non-draft statements only.",
)
@click.option("--customer", help="With --scope customer: the customer id the key may see.")
@click.option("--label", help="What the key is for (shown in lists), e.g. 'ERP sync'.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
@handle_errors
def create(
    state: State,
    tenant: str,
    scope: str,
    customer: str | None,
    label: str | None,
    as_json: bool,
) -> None:
    """Make a key. It is printed once: only a hash of it is stored."""
    from connector.access.api_keys import create_key

    try:
        new = create_key(state.runtime(), tenant, scope, customer, label, cli_actor())
    except ApiKeyError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        print_json(
            {
                "id": new.key_id,
                "tenant": new.tenant,
                "scope": new.scope,
                "customer": new.customer_id,
                "key": new.token,
            }
        )
        return
    # Plain click.echo: the key must come out whole, never wrapped or highlighted.
    click.echo(new.token)
    click.echo(
        f"API key {new.key_id} for tenant {tenant}, scope {scope}"
        + (f", customer {customer}" if customer else "")
        + ". Store it now: it cannot be shown again.",
        err=True,
    )


@api_keys.command("list")
@tenant_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
@handle_errors
def list_keys(state: State, tenant: str, as_json: bool) -> None:
    """The tenant's keys (ids, scopes, use), revoked ones included; never the secrets."""
    from connector.access.api_keys import list_keys as run_list

    keys = run_list(state.runtime(), tenant)
    if as_json:
        print_json(
            [
                {
                    "id": k.id,
                    "scope": k.scope,
                    "customer": k.customer_id,
                    "label": k.label,
                    "created_at": k.created_at,
                    "last_used_at": k.last_used_at,
                    "revoked_at": k.revoked_at,
                }
                for k in keys
            ]
        )
        return
    table = Table()
    table.add_column("id", no_wrap=True)  # copied into `revoke`: never folded
    for heading in ("scope", "customer", "label", "created", "last used", "revoked"):
        table.add_column(heading)
    for k in keys:
        table.add_row(
            k.id,
            k.scope,
            k.customer_id or "",
            k.label or "",
            _when(k.created_at),
            _when(k.last_used_at),
            _when(k.revoked_at),
        )
    console.print(table)


@api_keys.command()
@tenant_option
@click.argument("key_id")
@pass_state
@handle_errors
def revoke(state: State, tenant: str, key_id: str) -> None:
    """Revoke a key by its id (the part after ``bc_``); it stops working at once."""
    from connector.access.api_keys import revoke_key

    key = revoke_key(state.runtime(), tenant, key_id, cli_actor())
    console.print(f"API key {key.id} of tenant {tenant} is revoked", highlight=False)


@click.command()
@click.option("--host", help="Address to listen on [api.host in the settings: 127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535), help="Port [api.port: 8080].")
@pass_state
@handle_errors
def serve(state: State, host: str | None, port: int | None) -> None:
    """Run the billing API and the review page (/review) until stopped."""
    import uvicorn

    from connector.api import create_app
    from connector.api.guard import HEAD_BYTES

    runtime = _serve_logging(state)
    bind = runtime.settings.api
    host, port = host or bind.host, port or bind.port
    console.print(
        f"billing API on http://{host}:{port} (OpenAPI document at /openapi.json, "
        "review page at /review)",
        highlight=False,
    )
    # The app logs one access line per request (connector.api.access_log: key id, never
    # the key); uvicorn's own would double it. log_config=None: uvicorn's records go
    # through the handler set up above (JSON or text, masked), not handlers of its own.
    # HEAD_BYTES: a too-long URL is answered 414 by the app, not cut off by uvicorn.
    uvicorn.run(
        create_app(runtime),
        host=host,
        port=port,
        h11_max_incomplete_event_size=HEAD_BYTES,
        log_config=None,
        access_log=False,
    )


def _serve_logging(state: State) -> Runtime:
    """Log as ``connector run`` does (the settings' ``log_level`` and ``log_format``,
    secrets masked), from before the runtime opens, so its migrations are logged alike;
    returns the runtime, whose tenants' secrets are then masked too."""
    from connector.config.settings import load_settings
    from connector.daemon.logs import configure_logging, known_secrets

    settings = load_settings(state.config_path)
    redactor = configure_logging(
        settings.log_level, settings.log_format, secrets=known_secrets(settings, [])
    )
    runtime = state.runtime()
    redactor.add_secrets(known_secrets(runtime.settings, runtime.tenants.values()))
    return runtime
