"""The stateful Xero simulator in a process of its own, for the month end's push stage.

Xero is another computer: what it holds (every invoice and contact of the month, every
call it answered) is not the pusher's memory, and answering calls is not the pusher's
CPU. In the pusher's process the simulator's state made the push stage's peak RSS grow
with the month (317, 494 and 765 MiB at scales 1, 2 and 4) and its thread took the
pusher's GIL. Here it serves from a child process (``spawn``: nothing of the pusher's
database connections is inherited), with Xero's limits a minute made a second, and hands
back what the benchmark checks when it stops.
"""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

HERE = Path(__file__).resolve().parent


def _serve(conn: Any, paths: list[str]) -> None:
    sys.path[:0] = paths
    from connector_erp_xero.limits import CONCURRENT, PER_MINUTE
    from push import scaled_clock

    from tests.erp.push_sim import XeroServer

    server = XeroServer(concurrent=CONCURRENT)
    server.xero.clock, server.xero.per_minute = scaled_clock, PER_MINUTE
    conn.send(server.base_url)
    conn.recv()  # told to stop
    server.close()
    xero = server.xero
    conn.send(
        {
            "numbers": sorted(i["InvoiceNumber"] for i in xero.invoices.values()),
            "calls": len(xero.calls),
            "throttled": xero.throttled,
            "create_calls": len(xero.api_calls("PUT", "/Invoices")),
            "concurrency_429": server.concurrency_429,
        }
    )


class XeroProcess:
    """``with XeroProcess() as xero:`` serves at ``xero.base_url``; after the block,
    ``xero.held`` has the invoice numbers Xero holds and the calls it answered."""

    def __init__(self) -> None:
        self.held: dict[str, Any] = {}
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        paths = [str(HERE), str(HERE.parent)]
        self._process = context.Process(target=_serve, args=(child, paths), daemon=True)

    def __enter__(self) -> XeroProcess:
        self._process.start()
        self.base_url: str = self._conn.recv()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._conn.send("stop")
        self.held = self._conn.recv()
        self._process.join(timeout=30)
