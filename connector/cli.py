"""The ``connector`` command.

Exit codes: 0 done; 1 configuration error; 2 usage error; 3 database unreachable;
4 provider data rejected; 5 billing error (period open, missing pricebook, illegal
status change); 6 plugin or ERP delivery error; 7 another daemon already runs on
this SQLite database.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click
from rich.table import Table

from connector.cli_api import api_keys, serve
from connector.cli_credits import credits
from connector.cli_daemon import run
from connector.cli_erp import erp, outbox
from connector.cli_reconcile import reconcile
from connector.cli_report import report
from connector.cli_statements import statements
from connector.cli_support import (
    EXIT_PLUGIN,
    State,
    console,
    err_console,
    handle_errors,
    money,
    pass_state,
    period_option,
    print_json,
    provider_option,
    tenant_option,
)
from connector.config.errors import ConfigError
from connector.config.loader import load_tenants, tenant_json_schema
from connector.config.settings import load_settings
from connector.domain.periods import parse_period
from connector.pipeline.periods import resolve_period
from connector.plugins import load_plugins
from connector.storage.db import Database


@click.group()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    envvar="CONNECTOR_CONFIG",
    help="Daemon settings file [config/connector.yaml].",
)
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, verbose: bool) -> None:
    """Billing Connector: provider billing data to customer statements and your ERP."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = State(config_path)
    ctx.call_on_close(ctx.obj.close)


# --------------------------------------------------------------------------- plugins


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def plugins(as_json: bool) -> None:
    """List every plugin found through entry points, with its hooks and any load error."""
    host = load_plugins()
    records = host.pm.records
    if as_json:
        print_json(
            [
                {
                    "name": r.name,
                    "distribution": r.distribution,
                    "version": r.version,
                    "status": r.status,
                    "hooks": r.hooks,
                    "error": r.error,
                }
                for r in records
            ]
        )
        return
    table = Table("plugin", "distribution", "version", "status", "hooks", "error")
    for r in records:
        table.add_row(
            r.name, r.distribution, r.version, r.status, "\n".join(r.hooks), r.error or ""
        )
    console.print(table)
    console.print(
        f"providers: {', '.join(host.providers.names()) or '-'}; "
        f"ERP sinks: {', '.join(host.sinks.names()) or '-'}; "
        f"renderer formats: {', '.join(host.renderers.names()) or '-'}"
    )


# --------------------------------------------------------------------------- config


@main.command("check-config")
@pass_state
@handle_errors
def check_config(state: State) -> None:
    """Validate the daemon settings and every tenant file; report all problems at once."""
    from connector.pipeline.runtime import plugin_settings_model

    settings = load_settings(state.config_path)
    tenants = load_tenants(Path(settings.tenants_dir), plugin_settings_model(load_plugins()))
    _check_closed_periods(settings, tenants)
    for tenant in tenants:
        console.print(
            f"[green]ok[/] {tenant.tenant}: {len(tenant.customers)} customers, "
            f"providers {', '.join(tenant.providers)}, ERP sink {tenant.erp.sink}"
        )


def _check_closed_periods(settings, tenants) -> None:  # type: ignore[no-untyped-def]
    """Pricebook versions edited in place after they priced approved statements.

    Needs the database; a SQLite file not made yet has nothing to check, and an
    unreachable database is said, not taken for a bad tenant file.
    """
    from connector.pipeline.period_config import edited_version_issues
    from connector.storage.db import Database, DatabaseError

    url = settings.database_url
    if url.startswith("sqlite") and not Path(url.split("///", 1)[-1].split("?")[0]).exists():
        return
    try:
        db = Database(url, timeouts=settings.database_timeouts.timeouts())
    except DatabaseError as exc:
        err_console.print(f"[yellow]warning[/]: closed periods not checked: {exc}")
        return
    try:
        with db.transaction() as session:
            issues = edited_version_issues(session, tenants, Path(settings.tenants_dir))
    finally:
        db.dispose()
    if issues:
        raise ConfigError(issues)


@main.group()
def config() -> None:
    """Configuration helpers."""


@config.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of tenant files (for editors)."""
    print_json(tenant_json_schema())


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@pass_state
@handle_errors
def db_upgrade(state: State) -> None:
    """Apply database migrations (also done on every start)."""
    settings = load_settings(state.config_path)
    Database(settings.database_url, timeouts=settings.database_timeouts.timeouts()).dispose()
    console.print("database is at the latest schema")


# --------------------------------------------------------------------------- pipeline


@main.command()
@tenant_option
@provider_option
@period_option
@pass_state
@handle_errors
def ingest(state: State, tenant: str, provider: str, period: str | None) -> None:
    """Read the provider's billing data into stored charges (unchanged data is skipped)."""
    from connector.pipeline.ingest import ingest as run_ingest

    results = run_ingest(
        state.runtime(), tenant, provider, parse_period(period) if period else None
    )
    table = Table("period", "status", "charges", "source")
    for r in results:
        table.add_row(r.period, r.status, str(r.rows), r.source)
    console.print(table)


@main.command()
@tenant_option
@provider_option
@click.option("--period", required=True, help="Billing period as YYYY-MM.")
@pass_state
@handle_errors
def close(state: State, tenant: str, provider: str, period: str) -> None:
    """Signal that a period is final (the distributor's closure email)."""
    from connector.pipeline.close import signal_close

    runtime = state.runtime()
    reason = signal_close(
        runtime, tenant, provider, resolve_period(runtime, tenant, provider, period)
    )
    console.print(f"{provider} {period} is closed for {tenant} ({reason})")


@main.command("push")
@tenant_option
@pass_state
@handle_errors
def push_command(state: State, tenant: str) -> None:
    """Deliver approved statements waiting in the outbox to the tenant's ERP sink."""
    from connector.pipeline.publish import push

    outcomes = push(state.runtime(), tenant)
    for o in outcomes:
        console.print(f"{o.number}: {o.state} {o.message}")
    if any(o.state != "delivered" for o in outcomes):
        sys.exit(EXIT_PLUGIN)


@main.command()
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Folder for the database and every file written.",
)
@handle_errors
def demo(output: Path) -> None:
    """Run the whole flow on bundled sample data (SQLite, CSV sink), no network."""
    from connector.pipeline.demo import run_demo

    result = run_demo(output)
    table = Table(
        "number",
        "customer",
        "status",
        "currency",
        "subtotal",
        "tax",
        "total",
        title="October 2026 AWS statements, tenant acme",
    )
    for s in result.statements:
        table.add_row(
            s.number,
            s.customer_id,
            s.status,
            s.currency,
            money(s.subtotal),
            money(s.tax),
            money(s.total),
        )
    console.print(table)
    console.print(f"period closed by: {result.close_reason}")
    for account, cost in sorted(result.unassigned.items()):
        console.print(
            f"[yellow]unassigned spend[/]: account {account} billed {money(cost)} "
            "(map it to a customer under customers[].accounts)"
        )
    for outcome in result.pushed:
        console.print(f"ERP push {outcome.number}: {outcome.state}")
    console.print("files written:")
    for path in result.files:
        console.print(f"  {path}", highlight=False)


main.add_command(statements)
main.add_command(credits)
main.add_command(reconcile)
main.add_command(report)
main.add_command(erp)
main.add_command(run)
main.add_command(api_keys)
main.add_command(serve)
main.add_command(outbox)
