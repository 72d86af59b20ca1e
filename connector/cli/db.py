"""``connector db``: bring the database schema up to date, see where it stands.

The bodies of the ``db`` commands (declared in :mod:`connector.cli.main`), here so that
reading them imports Alembic and SQLAlchemy only when one runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from connector.cli.output import print_json
from connector.config.settings import load_settings
from connector.storage.db import Database, read_schema, redacted_url, schema_problem
from connector.storage.schema import SchemaState, migrations


def upgrade(config_path: Path | None) -> None:
    """Migrate the configured database to this version's latest revision."""
    settings = load_settings(config_path)
    db = Database(
        settings.database_url, migrate=False, timeouts=settings.database_timeouts.timeouts()
    )
    try:
        before = SchemaState(db.upgrade_schema(), migrations())
    finally:
        db.dispose()
    applied = len(before.pending)
    if before.current is None:
        click.echo(f"created the database schema at revision {before.latest} "
                   f"({applied} migrations)")  # fmt: skip
    elif applied:
        click.echo(f"upgraded the database from revision {before.current} to "
                   f"{before.latest} ({applied} migration(s))")  # fmt: skip
    else:
        click.echo(f"the database is already at the latest revision, {before.latest}")


def current(config_path: Path | None, as_json: bool) -> None:
    """Print the revision the configured database is at, against the latest."""
    settings = load_settings(config_path)
    url = settings.database_url
    state = read_schema(url, settings.database_timeouts.timeouts())
    if as_json:
        print_json(
            {
                "database": redacted_url(url),
                "current": state.current,
                "latest": state.latest,
                "is_latest": state.is_latest,
                "is_ahead": state.is_ahead,
                "pending": [m.revision for m in state.pending],
            }
        )
        return
    problem = schema_problem(state, url)
    if problem is None:
        problem = f"the database at {redacted_url(url)} is at revision {state.current}, the latest"
    click.echo(problem)


def history(config_path: Path | None) -> None:
    """Print this version's migrations, oldest first, marking the database's."""
    settings = load_settings(config_path)
    url = settings.database_url
    state = read_schema(url, settings.database_timeouts.timeouts())
    for migration in state.migrations:
        marks = [
            name
            for name, revision in (("current", state.current), ("latest", state.latest))
            if migration.revision == revision
        ]
        shown = f"  ({', '.join(marks)})" if marks else ""
        click.echo(f"{migration.revision}  {migration.description}{shown}")
    if state.current is None or state.is_ahead:
        click.echo(schema_problem(state, url))
