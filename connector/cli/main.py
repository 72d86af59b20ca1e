"""The ``connector`` command.

Exit codes: 0 done; 1 configuration error; 2 usage error; 3 database unreachable, or
its schema not this version's (run ``connector db upgrade``); 4 provider data
rejected; 5 billing error (period open, missing pricebook, illegal status change); 6
plugin or ERP delivery error; 7 another daemon already runs on this SQLite database.

Start-up stays light: the subcommands of other modules are imported only when
invoked (:class:`LazyGroup`), and this module imports the pipeline, the storage and
the plugins inside the commands that use them.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click
from rich.table import Table

from connector.cli.lazy import LazyCommand, LazyGroup
from connector.cli.output import Column, console, err_console, money, print_json, print_listing
from connector.cli.support import (
    EXIT_PLUGIN,
    State,
    handle_errors,
    pass_state,
    period_option,
    provider_option,
    tenant_option,
)

# Subcommands kept in modules of their own, imported when invoked; their short help is
# what `connector --help` lists (tests/core/test_startup.py holds it to the real one).
LAZY_COMMANDS = {
    "api-keys": LazyCommand(
        "connector.cli.api:api_keys",
        "Billing API keys: one tenant each, scope read, operator or customer.",
    ),
    "audit": LazyCommand(
        "connector.cli.audit:audit",
        "Who changed what, when: approvals, deletions, status changes, voids, credits, "
        "period closes and key changes, by API key, review page, command line or daemon.",
    ),
    "credits": LazyCommand(
        "connector.cli.credits:credits", "Customer credits: grant them, list balances."
    ),
    "erp": LazyCommand(
        "connector.cli.erp:erp", "The tenant's accounting system: connect it, check its mappings."
    ),
    "plugin": LazyCommand("connector.cli.plugin:plugin", "Scaffold a new plugin distribution."),
    "outbox": LazyCommand(
        "connector.cli.erp:outbox",
        "Deliveries to the ERP: what is pending, delivered, failing or dead.",
    ),
    "reconcile": LazyCommand(
        "connector.cli.reconcile:reconcile",
        "Compare what the provider billed you with what your statements charge customers.",
    ),
    "report": LazyCommand(
        "connector.cli.report:report",
        "Billing report from the stored charges: cost, price and margin per customer, cloud "
        "account, service category or usage type, in the report view (lines rounded, then "
        "added up) and the bill view (full precision, rounded per statement line), with "
        "statements' values as billed beside the data as it stands now.",
    ),
    "run": LazyCommand(
        "connector.cli.daemon:run",
        "Run the daemon: refresh, close, build, approve, push, notify, sync, per tenant.",
    ),
    "serve": LazyCommand(
        "connector.cli.api:serve",
        "Run the billing API and the review page (/review) until stopped.",
    ),
    "statements": LazyCommand(
        "connector.cli.statements:statements",
        "Billing statements: generate drafts, review, approve, export.",
    ),
    "users": LazyCommand(
        "connector.cli.users:users",
        "People who sign in to the web pages: operator, reviewer, read-only or customer.",
    ),
    "webhooks": LazyCommand("connector.cli.webhooks:webhooks", "Signed events to webhooks."),
}

# The commands that bring the database schema up to date as they open it: the
# long-running ones and the demo (and `db upgrade`, whose job it is). Every other
# command finds the schema behind and says to run `connector db upgrade`, changing
# nothing: an operator upgrades when they choose, not as a side effect of a listing.
MIGRATING_COMMANDS = frozenset({"run", "serve", "demo"})

DISTRIBUTION = "billing-connector"


@click.group(cls=LazyGroup, lazy_commands=LAZY_COMMANDS)
@click.version_option(package_name=DISTRIBUTION, prog_name="connector")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    envvar="CONNECTOR_CONFIG",
    help="Daemon settings file [config/connector.yaml].",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Log what is done (INFO) to stderr, in the settings' log_format.",
)
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, verbose: bool) -> None:
    """Billing Connector: provider billing data to customer statements and your ERP."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if verbose:  # in the settings' log_format (JSON by default), as `run` and `serve` log
        from connector.daemon.logs import configure_verbose_logging

        configure_verbose_logging(config_path)
    # Alembic's own INFO lines ("Context impl SQLiteImpl.") only when asked for; left
    # unset, connector.storage.db keeps them out of every log.
    logging.getLogger("alembic").setLevel(logging.INFO if verbose else logging.NOTSET)
    ctx.obj = State(config_path, migrate=ctx.invoked_subcommand in MIGRATING_COMMANDS)
    ctx.call_on_close(ctx.obj.close)


# --------------------------------------------------------------------------- plugins


PLUGIN_COLUMNS = (
    Column("name", "plugin"),
    Column("distribution", "distribution"),
    Column("version", "version"),
    Column("status", "status"),
    Column("hooks", "hooks", cell="\n".join),
    Column("error", "error"),
)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@handle_errors
def plugins(as_json: bool) -> None:
    """List every plugin found through entry points, with its hooks and any load error."""
    from connector.plugins import load_plugins

    host = load_plugins()
    print_listing(host.pm.records, PLUGIN_COLUMNS, as_json)
    if as_json:
        return
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
    from connector.config.loader import load_tenants
    from connector.config.settings import load_settings
    from connector.plugins import load_plugins
    from connector.runtime.runtime import plugin_settings_model

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

    Needs the database, as it is (checking migrates nothing); a SQLite file not made
    yet has nothing to check, and an unreachable database or one whose schema is not
    this version's is said, not taken for a bad tenant file.
    """
    from connector.config.errors import ConfigError
    from connector.pipeline.close.period_config import edited_version_issues
    from connector.storage.db import Database, DatabaseError

    url = settings.database_url
    if url.startswith("sqlite") and not Path(url.split("///", 1)[-1].split("?")[0]).exists():
        return
    try:
        db = Database.at_latest(url, timeouts=settings.database_timeouts.timeouts())
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
    from connector.config.loader import tenant_json_schema

    print_json(tenant_json_schema())


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@pass_state
@handle_errors
def db_upgrade(state: State) -> None:
    """Create the tables, or apply the migrations this version adds.

    `run`, `serve` and `demo` also do it as they start; every other command refuses a
    database whose schema is behind, changing nothing.
    """
    from connector.cli.db import upgrade

    upgrade(state.config_path)


@db.command("current")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
@handle_errors
def db_current(state: State, as_json: bool) -> None:
    """Print the schema revision the database is at and whether it is the latest."""
    from connector.cli.db import current

    current(state.config_path, as_json)


@db.command("history")
@pass_state
@handle_errors
def db_history(state: State) -> None:
    """List this version's migrations, oldest first, marking the database's revision."""
    from connector.cli.db import history

    history(state.config_path)


# --------------------------------------------------------------------------- pipeline


@main.command()
@tenant_option
@provider_option
@period_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
@handle_errors
def ingest(state: State, tenant: str, provider: str, period: str | None, as_json: bool) -> None:
    """Read the provider's billing data into stored charges (unchanged data is skipped).

    Says per period whether its data is new, unchanged or replaced, and whether the
    period is final and why: the provider marked the data final (its invoice is
    issued), `connector close` was signalled, or the business days after the period's
    end have passed; else the day it closes. Progress goes to stderr: a bar on a
    terminal, else a log line every few seconds.

    Exit code 4 when the provider data is refused, nothing ingested: a file cut off, a
    bad value, or an export with no data rows (only its header: "no data rows in
    FILE"; usually a half-downloaded or wrong file). Finding no data at all is a
    warning, exit code 0.
    """
    from connector.domain.periods import parse_period
    from connector.pipeline.ingest.ingest import ingest as run_ingest
    from connector.progress import progress_for

    runtime = state.runtime()
    with progress_for(err_console) as progress:
        results = run_ingest(
            runtime, tenant, provider, parse_period(period) if period else None, progress
        )
    if as_json:
        print_json([_ingested(r) for r in results])
    for r in results if not as_json else ():
        state_text = "final" if r.finality.final else "not final"
        console.print(
            f"{r.provider} {r.period}: {r.status}, {r.charges:,} charges from {r.source}\n"
            f"  {state_text}: {r.finality.why}",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip
    if not results:
        where = f" for {period}" if period else ""
        err_console.print(
            f"warning: no {provider} billing data found{where} for tenant {tenant}: nothing "
            f"was ingested (check where providers.{provider} points in the tenant file)",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip


def _ingested(result) -> dict:  # type: ignore[no-untyped-def]
    finality = result.finality
    return {
        "provider": result.provider,
        "period": result.period,
        "status": result.status,
        "charges": result.charges,
        "stored": result.rows,
        "source": result.source,
        "final": finality.final,
        "signal": finality.signal,
        "why": finality.why,
        "closes_on": finality.closes_on.isoformat(),
    }


@main.command()
@tenant_option
@provider_option
@click.option("--period", required=True, help="Billing period as YYYY-MM.")
@pass_state
@handle_errors
def close(state: State, tenant: str, provider: str, period: str) -> None:
    """Signal that a period is final (the distributor's closure email).

    Says by which signal the period is closed: this one, or the one that closed it
    before (then nothing changes).
    """
    import datetime as dt

    from connector.pipeline.close.close import closed_reason, signal_close
    from connector.pipeline.close.finality import finality
    from connector.runtime.periods import resolve_period

    runtime = state.runtime()
    billing_period = resolve_period(runtime, tenant, provider, period)
    with runtime.db.transaction() as session:
        before = closed_reason(session, tenant, provider, billing_period)
    reason = signal_close(runtime, tenant, provider, billing_period)
    with runtime.db.transaction() as session:
        closed = finality(session, runtime.tenant(tenant), provider, billing_period, False,
                          dt.date.today())  # fmt: skip
    already = "; it already was, nothing changed" if before is not None else ""
    console.print(
        f"{provider} {period} is closed for {tenant} ({reason}): {closed.why}{already}",
        markup=False, highlight=False, soft_wrap=True,
    )  # fmt: skip


@main.command("push")
@tenant_option
@pass_state
@handle_errors
def push_command(state: State, tenant: str) -> None:
    """Deliver approved statements waiting in the outbox to the tenant's ERP sink."""
    from connector.pipeline.publish.publish import push
    from connector.progress import progress_for

    runtime = state.runtime()
    with progress_for(err_console) as progress:
        outcomes = push(runtime, tenant, progress)
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
    from connector.cli.unassigned import print_unassigned

    print_unassigned(
        console,
        result.unassigned,
        fix="map each account to a customer under customers[].accounts in the tenant file",
    )
    for outcome in result.pushed:
        console.print(f"ERP push {outcome.number}: {outcome.state}")
    console.print("files written:")
    for path in result.files:
        console.print(f"  {path}", highlight=False)
