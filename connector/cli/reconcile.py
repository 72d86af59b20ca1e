"""``connector reconcile``: the provider's bill against the statements of one period."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.table import Table

from connector.cli.output import console, err_console, money, print_json
from connector.cli.support import (
    EXIT_BILLING,
    State,
    handle_errors,
    pass_state,
    provider_option,
    tenant_option,
)

# Money columns of the report rows shown in the table, with the row's column naming
# their currency (the provider's for costs, the statement's for prices); notes are
# printed below the table.
MONEY_COLUMNS = (
    ("billed_cost", "billed cost", "cost_currency"),
    ("price", "price", "currency"),
    ("margin", "margin", "currency"),
    ("total", "statement total", "currency"),
    ("drift", "drift", "cost_currency"),
)


def _label(row: dict) -> str:
    kind = row["row"]
    if kind == "customer":
        return f"{row['id']} {row['name']}"
    if kind in {"unassigned", "provider"}:
        return f"{kind} {row['id']}"
    if kind == "total":
        return f"total {row.get('cost_currency') or row.get('currency')}"
    return kind


def _amount(row: dict, key: str, currency_key: str) -> str:
    # Each amount carries its currency code: one table can hold USD costs and EUR prices.
    value = row.get(key)
    if value is None or (key == "drift" and not value):
        return ""  # only statements built from older data have drift
    return f"{money(value, row.get(currency_key))} {row.get(currency_key) or ''}".rstrip()


def _statement(row: dict) -> str:
    if row["row"] != "customer":
        return ""
    if not row["statement"]:
        return row["status"]
    return f"{row['statement'].split(' ')[0]} ({row['status']})"  # "draft 1a2b…" -> draft


def _table(rows: list[dict], title: str) -> Table:
    # Folded, never cut: an elided amount in a finance report would mislead.
    table = Table(title=title)
    table.add_column("", overflow="fold")
    table.add_column("statement", overflow="fold")
    for _, heading, _ in MONEY_COLUMNS:
        table.add_column(heading, justify="right", overflow="fold")
    for row, following in zip(rows, [*rows[1:], None], strict=True):
        last_total = row["row"] == "total" and (following is None or following["row"] != "total")
        table.add_row(
            _label(row),
            _statement(row),
            *(_amount(row, key, currency) for key, _, currency in MONEY_COLUMNS),
            end_section=last_total,
        )
    return table


@click.command()
@tenant_option
@provider_option
@click.option("--period", required=True, help="Billing period as YYYY-MM.")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    help="Folder for the CSV and JSON files [<output_dir>/<tenant>/reconcile].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the reconciliation as JSON.")
@pass_state
@handle_errors
def reconcile(
    state: State, tenant: str, provider: str, period: str, output: Path | None, as_json: bool
) -> None:
    """Compare what the provider billed you with what your statements charge customers.

    Shows cost, price and margin per customer, unassigned accounts, provider tax and
    credits, rounding and drift, and whether it all ties out to the provider's total.
    Costs are in the provider's currency, prices in each statement's; totals are per
    currency, and a margin across currencies uses the statement's recorded rate.
    Exits 5 when it does not tie out.
    """
    from connector.pipeline.reconcile.reconcile import reconcile as run_reconcile
    from connector.pipeline.reconcile.report import report_rows, to_dict, write_reports
    from connector.runtime.periods import resolve_period

    runtime = state.runtime()
    result = run_reconcile(
        runtime, tenant, provider, resolve_period(runtime, tenant, provider, period)
    )
    files = write_reports(result, output or runtime.output_dir / tenant / "reconcile")
    if as_json:
        print_json(to_dict(result))
    else:
        title = f"{provider} {result.period} reconciliation, tenant {tenant}"
        table = _table(report_rows(result), title)
        console.print(table)
        for currency, adjustment in result.rounding.items():
            console.print(
                f"rounding ({currency}): adjustment lines {money(adjustment)}, lines vs full "
                f"precision {money(result.rounding_difference[currency])}"
            )
        for problem in result.problems:
            console.print(f"[yellow]problem[/]: {problem}", highlight=False)
        if result.ties_out:
            console.print(
                f"[green]ties out[/]: provider total {money(result.provider_total)} "
                f"{result.currency} = "
                "customers + unassigned + provider tax and credits"
            )
        else:
            console.print(
                f"[bold red]does not tie out[/]: difference {result.difference:f} (provider "
                f"total {result.provider_total:f}, ingested {result.ingested_total:f})"
            )
        console.print("files written:")
        for path in files:
            console.print(f"  {path}", highlight=False)
    if not result.ties_out:
        if as_json:  # stdout stays pure JSON for scripts; the verdict goes to stderr
            err_console.print(f"[bold red]does not tie out[/]: difference {result.difference:f}")
        sys.exit(EXIT_BILLING)
