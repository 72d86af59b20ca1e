"""``connector api-keys`` (create, list, revoke) and ``connector serve`` (the API)."""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from connector.access.api_keys import SCOPES, ApiKeyError
from connector.cli.output import Column, console, print_json, print_listing, to_the_minute
from connector.cli.support import State, cli_actor, handle_errors, pass_state, tenant_option

if TYPE_CHECKING:
    from fastapi import FastAPI

    from connector.runtime.runtime import Runtime


KEY_COLUMNS = (
    Column("id", "id", whole=True),  # copied into `revoke`
    Column("scope", "scope"),
    Column("customer", "customer", "customer_id"),
    Column("label", "label"),
    Column("created_at", "created", cell=to_the_minute),
    Column("last_used_at", "last used", cell=to_the_minute),
    Column("revoked_at", "revoked", cell=to_the_minute),
)


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

    print_listing(run_list(state.runtime(), tenant), KEY_COLUMNS, as_json)


@api_keys.command()
@tenant_option
@click.argument("key_id")
@pass_state
@handle_errors
def revoke(state: State, tenant: str, key_id: str) -> None:
    """Revoke a key by its id (the part after ``bc_``); a running API refuses it within
    5 seconds (it trusts a key it verified that long)."""
    from connector.access.api_keys import revoke_key

    key = revoke_key(state.runtime(), tenant, key_id, cli_actor())
    console.print(f"API key {key.id} of tenant {tenant} is revoked", highlight=False)


@click.command()
@click.option("--host", help="Address to listen on [api.host in the settings: 127.0.0.1].")
@click.option("--port", type=click.IntRange(1, 65535), help="Port [api.port: 8080].")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Processes serving the port, each with its own database pool (database_pool "
    "in the settings) [api.workers: 1]. One per CPU core is usual.",
)
@pass_state
@handle_errors
def serve(state: State, host: str | None, port: int | None, workers: int | None) -> None:
    """Run the billing API and the review page (/review) until stopped."""
    import uvicorn

    from connector.api import create_app
    from connector.api.guard import HEAD_BYTES

    runtime = _serve_logging(state)  # migrates the schema, once, before any worker starts
    bind = runtime.settings.api
    host, port, workers = host or bind.host, port or bind.port, workers or bind.workers
    console.print(
        f"billing API on http://{host}:{port} (OpenAPI document at /openapi.json, "
        f"API documentation at /docs, review page at /review), {workers} worker(s)",
        highlight=False,
    )
    # The app logs one access line per request (connector.api.access_log: key id, never
    # the key); uvicorn's own would double it. log_config=None: uvicorn's records go
    # through the handler set up above (JSON or text, masked), not handlers of its own.
    # HEAD_BYTES: a too-long URL is answered 414 by the app, not cut off by uvicorn.
    options = {
        "host": host,
        "port": port,
        "h11_max_incomplete_event_size": HEAD_BYTES,
        "log_config": None,
        "access_log": False,
    }
    if workers == 1:
        app = create_app(runtime)
        _freeze_startup()
        try:
            uvicorn.run(app, **options)
        finally:
            gc.unfreeze()
        return
    state.close()  # each worker opens its own pool
    if state.config_path is not None:  # what each worker reads its settings from
        os.environ["CONNECTOR_CONFIG"] = str(state.config_path.resolve())
    uvicorn.run(f"{__name__}:worker_app", factory=True, workers=workers, **options)


def worker_app() -> FastAPI:
    """The app of one ``connector serve --workers N`` process.

    uvicorn starts the workers as new interpreters and calls this in each: the settings
    come from the same file (``CONNECTOR_CONFIG``) and environment as the parent's,
    logging is set up alike, and the schema, migrated by the parent, is only checked.
    """
    from connector.api import create_app

    config = os.environ.get("CONNECTOR_CONFIG")
    app = create_app(_serve_logging(State(Path(config) if config else None, migrate=False)))
    _freeze_startup()
    return app


def _freeze_startup() -> None:
    """Keep what the server holds as it starts out of the cycle collector's full
    collections (``gc.freeze``).

    The modules, the plugins and the tenant files (5,000 customers: about 200,000
    objects) live as long as the process, and every full collection walked them all
    while each request in flight waited: under 50 clients listing statements, 7 full
    collections in 30 s took 1.6 s, the longest 412 ms; frozen, 0.17 s and 125 ms, and
    the 99th percentile fell from about 660 ms to 485 ms.
    """
    gc.freeze()


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
