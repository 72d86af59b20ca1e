"""A build's parts: some customers' statements read, built and made into rows.

Building a period's statements is mostly reading the customers' charges, pricing them
and making the rows to store; storing is the smaller share, and one transaction must
do it. So the builder splits its customers into parts, and worker processes (one per
CPU core by default, ``build_workers`` in the daemon settings) each read and build a
part through their own read-only connection while the builder stores the parts before
it, in order, in its transaction. With one worker, or a database that only the
builder's connection can see (in-memory SQLite), the parts are built in the builder's
process, one after another, by the same code.

A worker reads charges that were committed before the build began (ingest commits its
batches), and writes nothing; credit balances, statement ids and everything else that
needs the builder's transaction are decided before the parts are handed out.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from decimal import Decimal
from itertools import groupby
from operator import itemgetter

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from connector.domain.currency import convert
from connector.domain.pricing import PricebookVersion
from connector.domain.provider_credits import PassedCredit
from connector.domain.statement import CustomerCharge, StatementOptions, build_statement
from connector.gc_pause import cycle_collector_off
from connector.pipeline.build import purchases
from connector.storage import bulk
from connector.storage.db import reader_engine
from connector.storage.details import write_details

# Customers per part: small enough that every worker stays busy to the end and that
# the parts waiting to be stored stay small, large enough that a part's charges are
# read by a few queries.
PART = 250


@dataclass(frozen=True, slots=True)
class Order:
    """One statement to build."""

    statement_id: str
    accounts: tuple[str, ...]
    pricebook: PricebookVersion
    options: StatementOptions  # with the customer's usable credit
    exchange_rate: Decimal  # billing currency -> invoice currency
    #: Purchase builds: the purchases approved purchase statements billed already
    #: (``purchases.unbilled``); ``None`` for a usage build.
    billed: Counter | None = None
    #: Provider credits the tenant passes to the customer, in the billing currency.
    provider_credits: tuple[PassedCredit, ...] = ()


@dataclass(frozen=True, slots=True)
class Part:
    batch_ids: tuple[int, ...]
    orders: Sequence[Order]
    upfront_apart: bool  # usage statements leave upfront purchases out
    text_money: bool  # line rows for SQLite: money as exact decimal text


@dataclass(frozen=True, slots=True)
class Made:
    """A built statement as the rows to store; ``None`` in a part's results means a
    purchase order found nothing left to bill."""

    statement_id: str
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    credits: Decimal
    details: str  # the detail snapshot's stored text
    lines: list[tuple]  # bulk.line_rows


class WorkerLost(Exception):
    """A worker process ended before handing back its part (the part's error, if it
    raised one, is raised as it is)."""


_ACCOUNT = itemgetter(0)  # CustomerCharge.account_id


def _charges(session: Session, part: Part) -> list[list[CustomerCharge]]:
    """Each order's charges, in the order's position; an account listed by several
    customers gives each of them all its charges."""
    holders: dict[str, list[int]] = {}
    for position, order in enumerate(part.orders):
        for account in order.accounts:
            holders.setdefault(account, []).append(position)
    found: list[list[CustomerCharge]] = [[] for _ in part.orders]
    for rows in bulk.customer_charges(session, part.batch_ids, list(holders)):
        # The rows come by batch and account: each account's run is routed at once.
        for account, run in groupby(rows, key=_ACCOUNT):
            listed = holders[account]
            if len(listed) == 1:
                found[listed[0]].extend(run)
                continue
            shared = list(run)
            for position in listed:
                found[position].extend(shared)
    return found


def build_part(session: Session, part: Part) -> list[Made | None]:
    """Read, build and make rows of each order of ``part``, in order."""
    made: list[Made | None] = []
    for order, charges in zip(part.orders, _charges(session, part), strict=True):
        if order.billed is not None:
            charges = purchases.unbilled(charges, order.billed)
            if not charges:
                made.append(None)
                continue
        elif part.upfront_apart:
            charges = purchases.without_upfront(charges)
        charges = convert(charges, order.exchange_rate)
        options = order.options
        if order.provider_credits:  # converted as the charges are
            rate = order.exchange_rate
            passed = tuple(c.converted(rate) for c in order.provider_credits)
            options = replace(options, provider_credits=passed)
        built = build_statement(charges, order.pricebook, options)
        if not built.lines:  # every charge is left off statements by this run's options
            made.append(None)
            continue
        made.append(
            Made(
                order.statement_id,
                built.subtotal,
                built.tax,
                built.total,
                built.credits,
                write_details(built.details),
                bulk.line_rows(order.statement_id, built.lines, part.text_money),
            )
        )
    return made


def parts(
    orders: Sequence[Order], batch_ids: Sequence[int], upfront_apart: bool, text_money: bool
) -> list[Part]:
    """``orders`` split into parts of :data:`PART` customers, in order."""
    return [
        Part(tuple(batch_ids), orders[start : start + PART], upfront_apart, text_money)
        for start in range(0, len(orders), PART)
    ]


def shareable(url: str) -> bool:
    """Whether another process's connection to ``url`` sees the same database."""
    parsed = make_url(url)
    return parsed.get_backend_name() != "sqlite" or parsed.database not in (None, "", ":memory:")


def made_parts(
    session: Session, url: str, todo: Sequence[Part], workers: int
) -> Iterator[list[Made | None]]:
    """Each part's statements, in order: built by ``workers`` processes reading ``url``,
    or here, on ``session``, when one worker (or one part) would do."""
    if workers <= 1 or len(todo) <= 1 or not shareable(url):
        for part in todo:
            yield build_part(session, part)
        return
    pool = worker_pool(url, min(workers, len(todo)))
    try:
        waiting: deque[Future[list[Made | None]]] = deque()
        ahead = iter(todo)
        # Two parts per worker in flight: workers never wait for the builder to take a
        # part, and at most that many parts' rows wait in memory.
        for part in ahead:
            waiting.append(pool.submit(_build_in_worker, part))
            if len(waiting) == 2 * workers:
                break
        while waiting:
            try:
                made = waiting.popleft().result()
            except BrokenProcessPool:
                raise WorkerLost(
                    "a statement build worker process ended before finishing its part "
                    "(killed, or out of memory); nothing was stored. Build again, or set "
                    "build_workers: 1 in connector.yaml to build in this process only"
                ) from None
            part = next(ahead, None)
            if part is not None:
                waiting.append(pool.submit(_build_in_worker, part))
            yield made
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def worker_pool(url: str, workers: int) -> ProcessPoolExecutor:
    """``workers`` build processes, each reading ``url``, that end when this process does.

    A builder killed outright (SIGKILL, the OOM killer) runs no cleanup, and its idle
    workers would wait on their task queue for ever, each holding a database
    connection; so every worker watches for its builder's end and exits with it.
    """
    return ProcessPoolExecutor(
        workers, mp_context=_context(), initializer=_connect, initargs=(url, os.getpid())
    )


def _context() -> multiprocessing.context.BaseContext:
    # Workers start from a small server process that has imported this module once:
    # quick to start, and nothing of the builder's (threads, open connections) is forked.
    # Where there is no such server (Windows), each worker starts afresh.
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


_worker_sessions: sessionmaker | None = None


# A worker checks this often whether its builder is still there.
WATCH_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _die_with(builder: int) -> None:
    """End this worker when ``builder`` (the process that made the pool) ends.

    The worker's parent is the forkserver (or, spawned, the builder itself); the
    forkserver exits when the builder does. On Linux the kernel kills the worker when
    its parent goes (``PR_SET_PDEATHSIG``); everywhere, a watchdog thread exits when
    the parent changes or the builder is gone, which also covers a parent that died
    before the kernel was asked.
    """
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    def gone() -> bool:
        if os.getppid() != parent:
            return True
        try:
            os.kill(builder, 0)
        except ProcessLookupError:
            return True
        except PermissionError:  # it exists, though not ours to signal
            return False
        return False

    def watch() -> None:
        while not gone():
            time.sleep(WATCH_SECONDS)
        os._exit(1)

    if gone():
        os._exit(1)
    threading.Thread(target=watch, name="builder-watch", daemon=True).start()


def _connect(url: str, builder: int) -> None:
    global _worker_sessions
    _die_with(builder)
    _worker_sessions = sessionmaker(reader_engine(url))
    cycle_collector_off()  # a worker lives for one build (see connector.gc_pause)


def _build_in_worker(part: Part) -> list[Made | None]:
    assert _worker_sessions is not None, "the pool's initializer connects each worker"
    with _worker_sessions() as session:
        return build_part(session, part)
