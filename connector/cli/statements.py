"""``connector statements``: generate, list, show, approve, delete, set-status, void, export."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from connector.cli.output import console, err_console, money, print_json
from connector.cli.support import (
    EXIT_BILLING,
    EXIT_PLUGIN,
    State,
    cli_actor,
    handle_errors,
    pass_state,
    period_option,
    provider_option,
    tenant_option,
)
from connector.cli.unassigned import print_unassigned, unassigned_json
from connector.domain.diff import diff_lines
from connector.domain.money import tidy

# SQLAlchemy, the models and the pipeline are imported by the commands that use them:
# `connector statements --help` needs none of them.
if TYPE_CHECKING:
    from connector.pipeline.review.approve import Approved
    from connector.runtime.runtime import Runtime
    from connector.storage import models as m


def _summary(s: m.Statement) -> dict:
    return {
        "id": s.id,
        "number": s.number,
        "customer": s.customer_id,
        "provider": s.provider,
        "period": f"{s.period_start:%Y-%m}",
        "status": s.status,
        "currency": s.currency,
        # Fixed-point in the currency's minor unit (PostgreSQL gives 12 places).
        "subtotal": format(tidy(s.subtotal, s.currency), "f"),
        "tax": format(tidy(s.tax, s.currency), "f"),
        "total": format(tidy(s.total, s.currency), "f"),
        "revision": s.revision,
        "pricebook_version": s.pricebook_version,
        "kind": s.kind,
        "part": s.part,
        "billing_currency": s.billing_currency,
        # As the rates file gave it (PostgreSQL pads it to 12 places).
        "exchange_rate": None if s.exchange_rate is None else f"{s.exchange_rate.normalize():f}",
    }


def _table(statements: Sequence[m.Statement | Approved], shown_ids: dict[str, str]) -> Table:
    """``shown_ids``: each statement's id as :func:`_short_ids` cuts it. Statements, or
    the records approval returns (which have every field shown)."""
    table = Table("id", "number", "customer", "provider", "period", "status", "total")
    for s in statements:
        table.add_row(
            shown_ids[s.id],
            s.number or "-",
            s.customer_id,
            s.provider,
            f"{s.period_start:%Y-%m}",
            s.status,
            f"{money(s.total, s.currency)} {s.currency}",
        )
    return table


def _short_ids(
    runtime: Runtime, tenant: str, statements: Sequence[m.Statement | Approved]
) -> dict[str, str]:
    """The statements' ids as shown: git-style, the shortest start (at least 8
    characters) that no other statement of the tenant shares, which every command that
    takes an id accepts."""
    from connector.pipeline.review.approve import short_ids

    with runtime.db.transaction() as session:
        return short_ids(session, tenant, [s.id for s in statements])


def _draft_lines(runtime, tenant: str, provider: str, start) -> dict[str, list]:  # type: ignore[no-untyped-def]
    """Each customer's Draft lines for the period, to show what a regeneration changed."""
    from sqlalchemy import select

    from connector.storage import models as m

    query = (
        select(m.Statement.customer_id, m.Statement.currency, m.StatementLine.description,
               m.StatementLine.amount)
        .join(m.StatementLine, m.StatementLine.statement_id == m.Statement.id)
        .where(m.Statement.tenant_id == tenant, m.Statement.provider == provider,
               m.Statement.period_start == start, m.Statement.status == "Draft",
               m.Statement.kind == "usage")
    )  # fmt: skip
    lines: dict[str, list] = {}
    with runtime.db.transaction() as session:
        for customer, currency, description, amount in session.execute(query):
            # In the minor unit, as on SQLite: PostgreSQL gives 12 places.
            lines.setdefault(customer, []).append((description, tidy(amount, currency)))
    return lines


def _amount(value: object) -> str:
    """A line's amount in a regeneration's diff; '-' where the line is not there (a
    $0.00 line is there)."""
    return "-" if value is None else str(value)


def _setting(value: object) -> str:
    return "-" if value is None else json.dumps(value)


@click.group()
def statements() -> None:
    """Billing statements: generate drafts, review, approve, export.

    A statement is named by its invoice number or its id: the id as listed, in full,
    or any start of it (at least 4 characters) that no other statement shares.
    """


@statements.command()
@tenant_option
@provider_option
@click.option("--period", required=True, help="Billing period as YYYY-MM.")
@click.option("--customer", "customers", multiple=True, help="Only these customer ids.")
@click.option("--no-credits", is_flag=True, help="Do not apply credits this run.")
@click.option("--no-tax", is_flag=True, help="Do not add tax this run.")
@click.option("--no-marketplace", is_flag=True, help="Leave marketplace fees out this run.")
@click.option(
    "--credits-for-marketplace", is_flag=True, help="Let credits pay marketplace fees this run."
)
@click.option(
    "--purchases",
    is_flag=True,
    help="Build statements of upfront reservation and savings-plan purchases not billed "
    "yet, before the period closes (invoice_options.aws_ri_purchase: immediately).",
)
@click.option(
    "--reprice-with-current-config",
    "reprice",
    is_flag=True,
    help="Reprice a closed period with today's tenant file instead of the configuration "
    "recorded when it closed; prints what changed and records it in the audit trail.",
)
@click.option(
    "--all-unassigned",
    "all_unassigned",
    is_flag=True,
    help="List every account no customer claims, not only the 5 largest per currency.",
)
@click.option("--json", "as_json", is_flag=True)
@pass_state
@handle_errors
def generate(
    state: State,
    tenant: str,
    provider: str,
    period: str,
    customers: tuple[str, ...],
    no_credits: bool,
    no_tax: bool,
    no_marketplace: bool,
    credits_for_marketplace: bool,
    purchases: bool,
    reprice: bool,
    all_unassigned: bool,
    as_json: bool,
) -> None:
    """Build Draft statements for a closed period (replacing earlier Drafts).

    A closed period is priced by the configuration recorded when it closed: later edits
    of the tenant file apply from the next period on, unless --reprice-with-current-config.
    """
    from connector.pipeline.build.build import generate as run_generate
    from connector.runtime.periods import resolve_period

    overrides = {
        k: v
        for k, v in {
            "apply_credits": False if no_credits else None,
            "include_tax": False if no_tax else None,
            "include_marketplace_fees": False if no_marketplace else None,
            "use_credits_for_marketplace_fees": True if credits_for_marketplace else None,
        }.items()
        if v is not None
    }
    runtime = state.runtime()
    billing_period = resolve_period(runtime, tenant, provider, period)
    before = _draft_lines(runtime, tenant, provider, billing_period.start)
    from connector.progress import progress_for

    with progress_for(err_console) as progress:
        report = run_generate(
            runtime, tenant, provider, billing_period, customers or None, overrides,
            kind="purchase" if purchases else "usage", reprice=reprice, actor=cli_actor(),
            progress=progress,
        )  # fmt: skip
    after = _draft_lines(runtime, tenant, provider, billing_period.start)
    changes = {c: diff_lines(before[c], after.get(c, [])) for c in before}
    if as_json:
        print_json(
            {
                "generated": [_summary(s) for s in report.generated],
                "skipped": [{"customer": c, "reason": r} for c, r in report.skipped],
                "failed": [{"customer": c, "reason": r} for c, r in report.failed],
                "unassigned": unassigned_json(report.unassigned),
                "changes": {
                    c: [{"line": x.description, "before": x.before, "after": x.after}
                        for x in found]
                    for c, found in changes.items()
                },
                "repriced": [
                    {"setting": c.setting, "before": c.before, "after": c.after}
                    for c in report.repriced
                ],
            }
        )  # fmt: skip
        _exit_if_failed(report.failed)
        return
    if reprice:
        console.print(f"repriced {period} with today's configuration: "
                      f"{len(report.repriced) or 'no'} settings changed")  # fmt: skip
    for change in report.repriced:
        console.print(
            f"  {change.setting}: {_setting(change.before)} -> {_setting(change.after)}",
            markup=False, highlight=False,
        )  # fmt: skip
    console.print(_table(report.generated, _short_ids(runtime, tenant, report.generated)))
    for customer, found in sorted(changes.items()):
        if not found:
            console.print(f"customer {customer}: regenerated, no change")
        for change in found:
            console.print(
                f"customer {customer}: {change.description}: {_amount(change.before)} -> "
                f"{_amount(change.after)} ({change.delta:+})"
            )
    for customer, reason in report.skipped:
        console.print(f"skipped customer {customer}: {reason}")
    for customer, reason in report.failed:
        err_console.print(f"[bold red]not built[/]: customer {customer}: ", end="")
        err_console.print(reason, markup=False, highlight=False, soft_wrap=True)
    print_unassigned(
        console,
        report.unassigned,
        show_all=all_unassigned,
        more=f"--all-unassigned lists every account, as do the files `connector reconcile "
        f"--tenant {tenant} --provider {provider} --period {period}` writes",
        fix=f"map each account to a customer under customers[].accounts.{provider} in the "
        "tenant file, or set unassigned_spend: block to stop builds until they are",
    )
    _exit_if_failed(report.failed)


def _exit_if_failed(failed: list[tuple[str, str]]) -> None:
    """The others were built and stored; the exit code still says some were not."""
    if failed:
        sys.exit(EXIT_BILLING)


@statements.command("list")
@tenant_option
@click.option("--provider")
@period_option
@click.option("--status", type=click.Choice(["Draft", "Open", "Closed", "Past Due", "Void"]))
@click.option("--json", "as_json", is_flag=True)
@pass_state
@handle_errors
def list_statements(
    state: State,
    tenant: str,
    provider: str | None,
    period: str | None,
    status: str | None,
    as_json: bool,
) -> None:
    """List statements, newest period first."""
    from sqlalchemy import select

    from connector.runtime.periods import in_month
    from connector.storage import models as m

    runtime = state.runtime()
    runtime.tenant(tenant)
    query = select(m.Statement).where(m.Statement.tenant_id == tenant)
    if provider:
        query = query.where(m.Statement.provider == provider)
    if period:
        query = query.where(in_month(period))
    if status:
        query = query.where(m.Statement.status == status)
    with runtime.db.transaction() as session:
        found = list(
            session.scalars(
                query.order_by(
                    m.Statement.period_start.desc(), m.Statement.provider, m.Statement.customer_id
                )
            )
        )
    if as_json:
        print_json([_summary(s) for s in found])
    else:
        console.print(_table(found, _short_ids(runtime, tenant, found)))


def _heading(summary: dict, name: str) -> str:
    """``statements show``'s first line: number, customer's name and id, provider and
    period, kind (when not the month's usage) and status, leaving out what is not there
    (a Draft has no number), so no separator is left dangling."""
    parts = [
        summary["number"],
        f"{name} (customer {summary['customer']})",
        f"{summary['provider']} {summary['period']}",
        None if summary["kind"] == "usage" else summary["kind"],
        summary["status"],
    ]
    return " · ".join(part for part in parts if part)


@statements.command()
@tenant_option
@click.argument("statement")
@click.option("--json", "as_json", is_flag=True)
@pass_state
@handle_errors
def show(state: State, tenant: str, statement: str, as_json: bool) -> None:
    """Show one statement (by number, id, or the start of an id as listed) with its lines."""
    from connector.pipeline.review.approve import find_statements

    runtime = state.runtime()
    with runtime.db.transaction() as session:
        (found,) = find_statements(session, tenant, [statement])
        lines = [
            {
                "position": line.position,
                "kind": line.kind,
                "description": line.description,
                # In the minor unit on both engines (PostgreSQL gives 12 places).
                "amount": format(tidy(line.amount, found.currency), "f"),
            }
            for line in found.lines
        ]
        summary = _summary(found)
    try:
        name = runtime.tenant(tenant).customer(summary["customer"]).name
    except KeyError:  # a customer since removed from the tenant file
        name = "customer no longer in the tenant file"
    if as_json:
        print_json({**summary, "lines": lines})
        return
    # A line of its own, not the table's title: a title is wrapped to the table's width
    # (leaving a "·" at a line's end) and read as markup (a customer's "[b]" vanished).
    console.print(_heading(summary, name), markup=False, highlight=False, soft_wrap=True)
    table = Table("#", "kind", "description", "amount")
    for line in lines:
        table.add_row(str(line["position"]), line["kind"], line["description"], line["amount"])
    table.add_row("", "", "total", f"{summary['total']} {summary['currency']}")
    console.print(table)


@statements.command()
@tenant_option
@click.argument("ids", nargs=-1)
@click.option("--all", "approve_all", is_flag=True, help="Approve every Draft of the tenant.")
@click.option("--provider", help="With --all: only this provider's Drafts.")
@pass_state
@handle_errors
def approve(
    state: State, tenant: str, ids: tuple[str, ...], approve_all: bool, provider: str | None
) -> None:
    """Approve Drafts: they become Open and get the next invoice numbers.

    Numbers follow the period (oldest first), then customer id, then provider, kind and
    part, whatever order the ids are given in.
    """
    from connector.pipeline.review.approve import approve as run_approve

    if not ids and not approve_all:
        raise click.UsageError("name statements to approve, or pass --all")
    from connector.progress import progress_for

    with progress_for(err_console) as progress:
        approved = run_approve(
            state.runtime(), tenant, None if approve_all else ids, cli_actor(), provider, progress
        )
    console.print(_table(approved, _short_ids(state.runtime(), tenant, approved)))


@statements.command()
@tenant_option
@click.argument("ids", nargs=-1, required=True)
@pass_state
@handle_errors
def delete(state: State, tenant: str, ids: tuple[str, ...]) -> None:
    """Delete Drafts (approved statements are corrected by credit notes instead)."""
    from connector.pipeline.build.build import delete_draft
    from connector.pipeline.review.approve import find_statements

    runtime = state.runtime()
    with runtime.db.transaction() as session:
        # One Draft named twice (by id and by a start of it) is deleted once.
        found = list(dict.fromkeys(find_statements(session, tenant, ids)))
        for statement in found:
            delete_draft(session, tenant, statement, cli_actor())
    console.print(f"deleted {len(found)} draft(s)")


@statements.command("set-status")
@tenant_option
@click.argument("status", type=click.Choice(["Closed", "Past Due"]))
@click.argument("ids", nargs=-1, required=True)
@pass_state
@handle_errors
def set_status(state: State, tenant: str, status: str, ids: tuple[str, ...]) -> None:
    """Mark Open statements Closed (paid) or Past Due, all named ones or none.

    Open is reached by `approve`; Closed is final.
    """
    from connector.pipeline.review.lifecycle import set_status as run_set_status

    changed = run_set_status(state.runtime(), tenant, ids, status, cli_actor())
    console.print(_table(changed, _short_ids(state.runtime(), tenant, changed)))


@statements.command()
@tenant_option
@click.argument("statement")
@click.option("--reason", required=True, help="Why it is voided; printed on the credit note.")
@pass_state
@handle_errors
def void(state: State, tenant: str, statement: str, reason: str) -> None:
    """Void an Open or Past Due statement (by number, id or start of an id) with a credit note.

    Prints the credit note's number; it is Open and queued for the ERP like an
    approved statement. Drafts are deleted instead; Closed (paid) ones are not voided.
    """
    from connector.pipeline.review.void import void as run_void

    note = run_void(state.runtime(), tenant, statement, cli_actor(), reason)
    click.echo(note.number)


# Written as one comma list, as --format takes it (it is also repeatable).
EXPORT_FORMATS = "pdf,csv,detailed-csv"


def _formats(values: tuple[str, ...]) -> list[str]:
    """--format values, repeated, comma-separated or both: each format once, in order."""
    named = (name.strip() for value in values for name in value.split(","))
    return list(dict.fromkeys(name for name in named if name))


@statements.command()
@tenant_option
@click.argument("ids", nargs=-1)
@period_option
@click.option(
    "--format",
    "formats",
    multiple=True,
    default=(EXPORT_FORMATS,),
    show_default=True,
    help="Renderer formats, comma-separated or repeated (see `connector plugins`).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    help="Folder for the files [<output_dir>/<tenant>/statements, output_dir being the "
    "daemon settings'].",
)
@pass_state
@handle_errors
def export(
    state: State,
    tenant: str,
    ids: tuple[str, ...],
    period: str | None,
    formats: tuple[str, ...],
    output: Path | None,
) -> None:
    """Render statements (by id, start of an id or number; else all, or all of a period)
    to files, printing each file written.

    Every file that can be rendered is written: one statement or format that cannot be
    does not stop the others. Drafts a format renders only once approved (UBL needs the
    invoice number) are listed at the end, and so are failures.

    Exit code 0 when every file that can be rendered now was written (Drafts waiting for
    approval are no failure); 5 when nothing was written because all of it waits for
    approval; 6 when a renderer failed (the other files are written all the same).
    """
    from sqlalchemy import select

    from connector.pipeline.publish.export import export_statements
    from connector.pipeline.review.approve import find_statements, short_ids
    from connector.runtime.periods import in_month
    from connector.storage import models as m

    runtime = state.runtime()
    with runtime.db.transaction() as session:
        if ids:
            # One statement named twice (by id and number) is rendered once.
            found = list(dict.fromkeys(find_statements(session, tenant, ids)))
        else:
            query = select(m.Statement).where(m.Statement.tenant_id == tenant)
            if period:
                query = query.where(in_month(period))
            found = list(session.scalars(query.order_by(m.Statement.id)))
        shown = short_ids(session, tenant, [s.id for s in found])
    if not found:
        err_console.print(f"tenant {tenant!r} has no statements{f' in {period}' if period else ''}"
                          " to export", markup=False, highlight=False)  # fmt: skip
        return
    folder = output or runtime.output_dir / tenant / "statements"
    from connector.progress import progress_for

    with progress_for(err_console) as progress:
        done = export_statements(
            runtime, tenant, [s.id for s in found], _formats(formats), folder, progress
        )
    for path in done.written:
        console.print(str(path), markup=False, highlight=False, soft_wrap=True)
    by_id = {s.id: s for s in found}

    def label(statement_id: str) -> str:
        s = by_id[statement_id]
        return (f"{s.number or 'Draft ' + shown[s.id]} (customer {s.customer_id}, "
                f"{s.provider} {s.period_start:%Y-%m})")  # fmt: skip

    waiting: dict[str, list[str]] = {}
    for statement_id, fmt in done.needs_approval:
        waiting.setdefault(statement_id, []).append(fmt)
    if waiting:
        named = " ".join(shown[i] for i in waiting) if len(waiting) <= 10 else "ID..."
        err_console.print(
            f"needs approval first, then export again (`connector statements approve "
            f"--tenant {tenant} {named}`):",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip
        for statement_id, fmts in waiting.items():
            err_console.print(f"  {label(statement_id)}: {', '.join(fmts)}",
                              markup=False, highlight=False, soft_wrap=True)  # fmt: skip
    for statement_id, fmt, why in done.failed:
        err_console.print("[bold red]not rendered[/]:", end=" ")
        err_console.print(f"{label(statement_id)} as {fmt}: {why}",
                          markup=False, highlight=False, soft_wrap=True)  # fmt: skip
    if done.failed:
        sys.exit(EXIT_PLUGIN)
    if waiting and not done.written:
        sys.exit(EXIT_BILLING)
