"""``connector report``: billing reports, live from the stored charges, beside the statements."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from connector.cli.output import console, err_console, money
from connector.cli.support import State, handle_errors, pass_state, provider_option, tenant_option
from connector.domain.report_rounding import LEVELS

# The report date when --as-of is not given; tests replace it.
clock: Callable[[], dt.date] = dt.date.today

FORMATS = ("table", "csv", "json")


def _label(row) -> str:  # type: ignore[no-untyped-def]
    # Each level names itself and its parent; the CSV and JSON carry every key.
    if row.level == "customer":
        return f"{row.customer_id} {row.customer_name}"
    if row.level == "account":
        return f"{row.customer_id} / {row.account_id}"
    category = row.service_category
    if row.is_marketplace:
        category = f"Marketplace: {category}"
    if row.level == "service":
        return f"{row.account_id} / {category}"
    return f"{category} / {row.usage_type} ({row.line_item_type})"


def _bill(figures) -> str:  # type: ignore[no-untyped-def]
    # A row finer than a statement line has no rounded bill value: shown exact, marked ~.
    return money(figures.price_bill) + ("" if figures.bill_rounded else "~")


def _table(report) -> Table:  # type: ignore[no-untyped-def]
    compare = any(r.billed is not None for r in report.rows)
    several = len(report.periods) > 1
    status = "PROVISIONAL" if report.provisional else "closed"
    title = (
        f"{report.provider} billing report, tenant {report.tenant}, {report.range.first} to "
        f"{report.range.last}, by {report.by} ({status})"
    )
    table = Table(title=title, caption="~ exact: finer than a statement line" if any(
        not r.now.bill_rounded for r in report.rows) else None)  # fmt: skip
    if several:
        table.add_column("period")
    table.add_column(report.by, overflow="fold")
    headings = ["cost", "price report", "price bill", "report-bill", "margin report"]
    if compare:
        headings += ["billed bill", "now-billed"]
    for heading in headings:
        table.add_column(heading, justify="right", overflow="fold")
    for row in report.rows:
        now = row.now
        cells = [_label(row), money(now.cost_report), money(now.price_report), _bill(now),
                 money(now.view_difference), money(now.margin_report)]  # fmt: skip
        if compare:
            billed, change = row.billed, row.change
            cells += ["", ""] if billed is None else [_bill(billed), money(change.price_bill)]
        if several:
            cells.insert(0, row.period + (" *" if row.provisional else ""))
        table.add_row(*cells)
    for total in report.totals:
        now = total.now
        cells = [f"total {total.currency}", money(now.cost_report), money(now.price_report),
                 money(now.price_bill), money(now.view_difference),
                 money(now.margin_report)]  # fmt: skip
        if compare:
            cells += (
                ["", ""]
                if total.billed is None
                else [money(total.billed.price_bill), money(total.change.price_bill)]
            )
        if several:
            cells.insert(0, "")
        table.add_row(*cells, style="bold")
    return table


def _print_table(report, out: Console) -> None:  # type: ignore[no-untyped-def]
    out.print(_table(report))
    for total in report.totals:
        now = total.now
        out.print(
            f"{total.currency}: report view {money(now.price_report)}, bill view "
            f"{money(now.price_bill)}, difference {money(now.view_difference)}",
            highlight=False,
        )
        if total.change is not None:
            out.print(
                f"{total.currency}: as billed {money(total.billed.price_bill)}, as the data "
                f"stands now {money(total.now_billed.price_bill)}, change "
                f"{money(total.change.price_bill)}",
                highlight=False,
            )
    for p in report.periods:
        state = f"closed ({p.closed_by})" if p.closed_by else "PROVISIONAL: not closed yet"
        out.print(f"period {p.key}: {state}; {p.statements} statement(s)", highlight=False)
    for problem in report.problems:
        out.print(f"[yellow]note[/]: {problem}", highlight=False)


@click.command("report")
@tenant_option
@provider_option
@click.option(
    "--range",
    "range_",
    default="month-to-date",
    show_default=True,
    help="month-to-date, last-month, YYYY-MM, or FROM..TO (YYYY-MM-DD..YYYY-MM-DD).",
)
@click.option(
    "--by",
    type=click.Choice(LEVELS),
    default="customer",
    show_default=True,
    help="Drill-down level of the rows: customer, cloud account, service category, usage type.",
)
@click.option("--customer", "customers", multiple=True, help="Only this customer id (repeatable).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to FILE, not stdout.")
@click.option(
    "--pricing",
    type=click.Choice(("period", "latest")),
    default="period",
    show_default=True,
    help="period: the pricebook version in force for each period (what its statement uses); "
    "latest: the newest version in force on the report date.",
)
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Report date [today].")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress on stderr: --progress a bar, --no-progress none [a bar on a terminal, "
    "else a log line every few seconds].",
)
@pass_state
@handle_errors
def report(
    state: State,
    tenant: str,
    provider: str,
    range_: str,
    by: str,
    customers: tuple[str, ...],
    fmt: str,
    output: Path | None,
    pricing: str,
    as_of: dt.datetime | None,
    progress: bool | None,
) -> None:
    """Billing report from the stored charges: cost, price and margin per customer, cloud
    account, service category or usage type, in the report view (lines rounded, then
    added up) and the bill view (full precision, rounded per statement line), with
    statements' values as billed beside the data as it stands now.
    """
    from connector.pipeline.publish.export import write_atomically
    from connector.pipeline.report.output import to_csv, to_json
    from connector.pipeline.report.range import parse_range
    from connector.pipeline.report.report import build_report
    from connector.progress import progress_for

    today = as_of.date() if as_of else clock()
    days = parse_range(range_, today)
    runtime = state.runtime()
    with progress_for(err_console, progress) as counts:
        result = build_report(runtime, tenant, provider, days, by, customers or None, today,
                              pricing, counts)  # fmt: skip
    if fmt == "csv":
        data = to_csv(result)
    elif fmt == "json":
        data = to_json(result)
    elif output is None:
        _print_table(result, console)
        return
    else:
        buffer = io.StringIO()
        _print_table(result, Console(file=buffer, width=max(console.width, 160)))
        data = buffer.getvalue().encode()
    if output is None:
        click.echo(data.decode(), nl=False)
    else:
        write_atomically(output, data)
        err_console.print(f"report written to {output}", highlight=False)
