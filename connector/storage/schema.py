"""Which migration a database is at, against the migrations this version ships.

Read-only: nothing here creates a table (not even Alembic's version table), so a
command that only reads can say how far behind a database is and leave it as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


@contextmanager
def alembic_quiet() -> Iterator[None]:
    """Keep Alembic's INFO lines ("Context impl SQLiteImpl.", "setup plugin ...") out of
    every log, unless someone chose the ``alembic`` logger's level (``connector -v``).

    Alembic is imported inside it too: importing it logs.
    """
    logger = logging.getLogger("alembic")
    if logger.level != logging.NOTSET:
        yield
        return
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(logging.NOTSET)


@dataclass(frozen=True, slots=True)
class Migration:
    """One Alembic revision: its id and the first line of its docstring."""

    revision: str
    description: str


@dataclass(frozen=True, slots=True)
class SchemaState:
    """Where a database stands against this version's migrations."""

    #: The revision the database is at; None for a database with no schema yet.
    current: str | None
    #: This version's migrations, oldest first (the last is the latest).
    migrations: tuple[Migration, ...]

    @property
    def latest(self) -> str:
        return self.migrations[-1].revision

    @property
    def is_latest(self) -> bool:
        return self.current == self.latest

    @property
    def is_ahead(self) -> bool:
        """Migrated by a newer version: its revision is none this version knows."""
        return self.current is not None and self.current not in self._revisions()

    @property
    def pending(self) -> tuple[Migration, ...]:
        """The migrations ``connector db upgrade`` would apply (none when ahead)."""
        if self.is_ahead:
            return ()
        if self.current is None:
            return self.migrations
        return self.migrations[self._revisions().index(self.current) + 1 :]

    def _revisions(self) -> list[str]:
        return [m.revision for m in self.migrations]


@cache  # the files a process was installed with
def migrations() -> tuple[Migration, ...]:
    """The migrations this version ships, oldest first."""
    with alembic_quiet():
        from alembic.script import ScriptDirectory

        newest_first = list(ScriptDirectory(str(MIGRATIONS)).walk_revisions())
    return tuple(Migration(r.revision, r.doc) for r in reversed(newest_first))


def schema_state(engine: Engine) -> SchemaState:
    """Read the revision ``engine``'s database is at (Alembic's ``alembic_version``).

    A database with no version table has no schema yet (``current`` None); reading
    it creates nothing.
    """
    with alembic_quiet(), engine.connect() as conn:
        from alembic.runtime.migration import MigrationContext

        heads = MigrationContext.configure(conn).get_current_heads()
    # One line of history: a database at several heads is none this version made.
    current = ",".join(sorted(heads)) if heads else None
    return SchemaState(current, migrations())
