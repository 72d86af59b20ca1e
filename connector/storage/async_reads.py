"""The API's one-statement reads on PostgreSQL, made on the event loop through psycopg's
own asyncio pool (``psycopg_pool``), without SQLAlchemy's asyncio engine.

The list of statements is one SQL statement, which SQLAlchemy still writes (compiled
once per kind of list, see :mod:`connector.api.queries`). Only the sending changed:
through SQLAlchemy's asyncio engine every page paid for a greenlet hand-off and the
engine's checkout and return of a connection, 2.2-2.8 ms of CPU a page read in-process
against 1.0-1.5 ms through ``psycopg_pool`` with the same SQL and rows (issue 24).

Connections are made as the engine's are (the URL's host, database, user and query
through SQLAlchemy's psycopg dialect, then the timeouts of
:func:`~connector.storage.db.postgres_connect_args`), in autocommit, ``size`` kept and
``overflow`` more while busy. No ping before each use (a round trip per read): a read on
a connection the server has dropped is made again once, after the pool's idle
connections are checked.

A pool belongs to the event loop it was opened on: asked from another loop (a second
test client), a new pool is opened there and the first one let go.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

log = logging.getLogger(__name__)


class AsyncReads:
    """Reads of one statement each, on the running event loop (PostgreSQL only)."""

    def __init__(
        self, connect: Mapping[str, Any], size: int, overflow: int, timeout: float = 30.0
    ) -> None:
        """``connect``: psycopg's connection arguments; ``size`` connections kept,
        ``overflow`` more while busy; ``timeout``: seconds a read waits for one."""
        self._connect = {**connect, "autocommit": True}
        self._sizes = (size, size + overflow)
        self._timeout = timeout
        self._pool: AsyncConnectionPool[AsyncConnection] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def rows(self, sql: str, values: Mapping[str, object]) -> Sequence[tuple]:
        """Every row ``sql`` selects with ``values`` (``%(name)s`` parameters), read
        again once if the server had dropped the connection taken: after a restart
        every idle one is gone, so all are checked (and replaced) first."""
        pool = await self._opened()
        try:
            return await self._read(pool, sql, values)
        except _Dropped as dropped:
            log.warning("a pooled connection was gone (%s); reading again on a new one", dropped)
            await pool.check()
            return await self._read(pool, sql, values)

    async def close(self) -> None:
        """Close the pool's connections (on the loop it was opened on)."""
        pool, self._pool, self._loop = self._pool, None, None
        if pool is not None:
            await pool.close()

    async def _opened(self) -> AsyncConnectionPool[AsyncConnection]:
        loop = asyncio.get_running_loop()
        if self._pool is None or self._loop is not loop:
            from psycopg import AsyncConnection
            from psycopg_pool import AsyncConnectionPool

            low, high = self._sizes
            self._pool = AsyncConnectionPool(
                kwargs=self._connect,
                connection_class=AsyncConnection,
                min_size=low,
                max_size=high,
                timeout=self._timeout,
                name="connector-api-reads",
                open=False,
            )
            self._loop = loop
        await self._pool.open()
        return self._pool

    @staticmethod
    async def _read(
        pool: AsyncConnectionPool[AsyncConnection], sql: str, values: Mapping[str, object]
    ) -> Sequence[tuple]:
        import psycopg

        async with pool.connection() as conn:
            try:
                cursor = await conn.execute(sql, values)
                return await cursor.fetchall()
            except psycopg.OperationalError as exc:
                if conn.broken:  # the pool discards it when it comes back
                    raise _Dropped(exc) from exc
                raise


class _Dropped(Exception):
    """The connection taken was closed by the server (a restart, an idle timeout)."""
