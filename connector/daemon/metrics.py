"""Prometheus metrics: what this replica did, and the database's state at scrape time.

Counters and the loop histogram count this process's work. Statements by status and
the outbox's depth and oldest age are read from the database when scraped, so every
replica reports the same cluster-wide values: aggregate them with ``max``, not ``sum``.
The process's own (``process_*``: CPU, resident memory, open files) and ``python_info``
come from prometheus_client's collectors.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from connector.daemon.clock import Clock
from connector.daemon.leases import aware
from connector.storage import models as m
from connector.storage.db import Database
from connector.storage.models import utcnow

log = logging.getLogger(__name__)
WAITING = ("pending", "in_flight", "failed")


class DatabaseCollector(Collector):
    """Statements by status and outbox depth/age, queried on each scrape."""

    def __init__(self, db: Callable[[], Database | None]) -> None:
        self._db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        statements = GaugeMetricFamily(
            "connector_statements", "Statements by tenant and status.", labels=["tenant", "status"]
        )
        depth = GaugeMetricFamily(
            "connector_outbox_depth", "ERP outbox entries by state.", labels=["tenant", "state"]
        )
        oldest = GaugeMetricFamily(
            "connector_outbox_oldest_age_seconds",
            "Age of the oldest entry not yet delivered (pending, in flight, failed).",
            labels=["tenant"],
        )
        db = self._db()
        if db is not None:
            try:
                self._read(db, statements, depth, oldest)
            except Exception as exc:  # a scrape must answer even when the database cannot
                log.warning("metrics: database not readable: %s", type(exc).__name__)
        yield from (statements, depth, oldest)

    def _read(self, db: Database, statements, depth, oldest) -> None:  # type: ignore[no-untyped-def]
        now = utcnow()  # created_at is written with the wall clock
        with db.sessions() as session:
            for tenant, status, count in session.execute(
                select(m.Statement.tenant_id, m.Statement.status, func.count()).group_by(
                    m.Statement.tenant_id, m.Statement.status
                )
            ):
                statements.add_metric([tenant, status], count)
            for tenant, state, count in session.execute(
                select(m.OutboxEntry.tenant_id, m.OutboxEntry.state, func.count()).group_by(
                    m.OutboxEntry.tenant_id, m.OutboxEntry.state
                )
            ):
                depth.add_metric([tenant, state], count)
            for tenant, first in session.execute(
                select(m.OutboxEntry.tenant_id, func.min(m.OutboxEntry.created_at))
                .where(m.OutboxEntry.state.in_(WAITING))
                .group_by(m.OutboxEntry.tenant_id)
            ):
                oldest.add_metric([tenant], max(0.0, (now - aware(first)).total_seconds()))


class RefreshAgeCollector(Collector):
    """Seconds since each tenant × provider's data was last refreshed successfully."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def refreshed(self, tenant: str, provider: str) -> None:
        with self._lock:
            self._last[(tenant, provider)] = self._clock.now().timestamp()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "connector_provider_refresh_age_seconds",
            "Seconds since the provider's billing data was last fetched successfully.",
            labels=["tenant", "provider"],
        )
        now = self._clock.now().timestamp()
        with self._lock:
            for (tenant, provider), at in sorted(self._last.items()):
                family.add_metric([tenant, provider], now - at)
        yield family


class Metrics:
    """Every metric of one daemon, in its own registry (never the global one)."""

    def __init__(self, clock: Clock, db: Callable[[], Database | None]) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.pushes = Counter(
            "connector_pushes", "ERP deliveries by outcome.", ["tenant", "sink", "result"],
            registry=r,
        )  # fmt: skip
        # As pushes: one per attempt that settled (a retried event counts again); an
        # event not tried because its endpoint failed earlier in the pass is not counted.
        self.webhook_deliveries = Counter(
            "connector_webhook_deliveries",
            "Webhook deliveries by outcome: delivered, failed (retried later), dead.",
            ["tenant", "endpoint", "result"], registry=r,
        )  # fmt: skip
        self.unit_failures = Counter(
            "connector_unit_failures", "Units of work that failed.", ["tenant", "kind"], registry=r
        )
        self.notifications = Counter(
            "connector_notifications", "Statement emails by outcome.", ["tenant", "result"],
            registry=r,
        )  # fmt: skip
        self.statements_built = Counter(
            "connector_statements_built", "Draft statements built.", ["tenant", "provider"],
            registry=r,
        )  # fmt: skip
        self.loop_duration = Histogram(
            "connector_loop_duration_seconds", "Duration of one pass over the due work.",
            buckets=(0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900), registry=r,
        )  # fmt: skip
        self.leader = Gauge("connector_leader", "1 while this replica is the clock leader.",
                            registry=r)  # fmt: skip
        self.tenants = Gauge("connector_tenants", "Tenants loaded.", registry=r)
        # One series per tenant file left out, cleared on every reload: alert on > 0.
        self.tenant_file_problems = Gauge(
            "connector_tenant_file_problems",
            "Problems of each tenant file skipped at the last reload (its tenant is not served).",
            ["file"], registry=r,
        )  # fmt: skip
        self.refresh = RefreshAgeCollector(clock)
        r.register(self.refresh)
        r.register(DatabaseCollector(db))
        # process_* (CPU seconds, resident memory, open files, start time) and
        # python_info, as every Python exporter reports them: prometheus_client's own.
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)

    def tenant_files_skipped(self, problems: dict[str, int]) -> None:
        """Replace the skipped files' series with ``problems`` (file name -> count)."""
        self.tenant_file_problems.clear()
        for file, count in problems.items():
            self.tenant_file_problems.labels(file).set(count)

    def time_pass(self) -> _Timer:
        return _Timer(self.loop_duration)


class _Timer:
    def __init__(self, histogram: Histogram) -> None:
        self._histogram = histogram

    def __enter__(self) -> None:
        self._start = time.monotonic()

    def __exit__(self, *exc: object) -> None:
        self._histogram.observe(time.monotonic() - self._start)
