"""``connector audit``: read the audit trail (who changed what, when), newest first.

The same reading as ``GET /v1/audit`` (:func:`connector.runtime.audit.find_entries`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click
from rich.table import Table

from connector.cli.output import console, print_json
from connector.cli.support import State, handle_errors, pass_state, tenant_option


def _moment(end_of_day: bool):  # type: ignore[no-untyped-def]
    """A click callback reading a date or timestamp into a UTC datetime."""

    def convert(ctx: click.Context, param: click.Parameter, value: str | None):  # type: ignore[no-untyped-def]
        from connector.runtime.audit import parse_moment

        if value is None:
            return None
        try:
            return parse_moment(value, end_of_day=end_of_day)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx, param) from None

    return convert


def _utc(at: dt.datetime) -> dt.datetime:
    # SQLite hands the stored UTC time back without its offset.
    return (at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def _row(entry: Any) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": _utc(entry.at).isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "detail": entry.detail or {},
    }


@click.command("audit")
@tenant_option
@click.option(
    "--since",
    callback=_moment(end_of_day=False),
    help="From this date (YYYY-MM-DD) or ISO timestamp on; UTC unless it has an offset.",
)
@click.option(
    "--until",
    callback=_moment(end_of_day=True),
    help="Before this ISO timestamp, or up to the end of this date (YYYY-MM-DD).",
)
@click.option("--action", help="Action or its prefix, e.g. statement.approve or statement.")
@click.option("--actor", help="Actor or its prefix, e.g. api-key:3f9a0c1d2e4b or cli.")
@click.option("--statement", help="A statement's id, a prefix of it, or its invoice number.")
@click.option(
    "--limit",
    type=click.IntRange(1, 100_000),
    default=50,
    show_default=True,
    help="Show at most this many entries, newest first.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_state
@handle_errors
def audit(
    state: State,
    tenant: str,
    since: dt.datetime | None,
    until: dt.datetime | None,
    action: str | None,
    actor: str | None,
    statement: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Who changed what, when: approvals, deletions, status changes, voids, credits,
    period closes and key changes, by API key, review page, command line or daemon."""
    from connector.runtime.audit import AuditFilter, find_entries

    runtime = state.runtime()
    runtime.tenant(tenant)  # an unknown tenant is an error, not an empty trail
    wanted = AuditFilter(since, until, action, actor, statement)
    with runtime.db.transaction() as session:
        found, total = find_entries(session, tenant, wanted, limit)
        rows = [_row(entry) for entry in found]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print(f"no audit entries of tenant {tenant} match", highlight=False)
        return
    table = Table("at (UTC)", "actor", "action")
    table.add_column("subject", no_wrap=True)  # an id to copy into other commands
    table.add_column("detail")
    for row in rows:
        detail = json.dumps(row["detail"], default=str, separators=(", ", ": "))
        at = row["at"][:19].replace("T", " ")
        table.add_row(at, row["actor"], row["action"], row["subject"], detail)
    console.print(table)
    if total > len(rows):
        console.print(f"{len(rows)} of {total} entries shown: use --limit or narrow the filters")
