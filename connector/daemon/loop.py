"""The daemon: claims due units of work, runs them in isolation, shuts down cleanly.

Every replica runs the same loop (driven by ``schedule``): it renews the clock
leadership, then claims due units one at a time until none is left. The clock leader
(lease ``leader``) enrols the units of new tenants and retires those of removed ones.
A failing unit is logged and backed off exponentially (capped) without touching the
others, as CloudKitty processes each scope under its own lock:
``try: process / except: log, retry later / finally: release``.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

import schedule
from sqlalchemy import text
from tenacity import RetryCallState, wait_exponential

from connector.config.settings import DaemonSettings
from connector.config.tenant import DaemonPolicy
from connector.daemon.api_server import ApiServer
from connector.daemon.clock import Clock, SystemClock
from connector.daemon.health import HealthServer
from connector.daemon.leases import BACKOFF, IDLE, LeaseBook
from connector.daemon.logs import RedactingFilter, known_secrets, log_context
from connector.daemon.metrics import Metrics
from connector.daemon.options import DaemonOptions
from connector.daemon.singleton import SingleDaemonLock, sqlite_file
from connector.daemon.systemd import ServiceNotifier
from connector.daemon.tenants import load_tenants_isolated
from connector.daemon.units import PREFIX, HandBack, Unit, WorkContext, run_unit, units_of
from connector.pipeline.publish.notify import Mailer, SmtpMailer
from connector.plugins import PluginHost, load_plugins
from connector.runtime.runtime import Runtime
from connector.storage.db import Database

log = logging.getLogger(__name__)

LEADER = "leader"


# pg_advisory_lock key of schema migrations: any constant shared by every replica.


def replica_id() -> str:
    """Unique per process, readable in ``work_leases.holder``: host, pid, random."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(slots=True)
class PassReport:
    """What one pass over the due units did."""

    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    handed_back: list[str] = field(default_factory=list)


class Daemon:
    """One replica. ``start()``, then ``run_once()`` or ``run_forever()``, then ``close()``.

    :param clock: the time for leases, period close and due dates (tests freeze it).
    :param policies: per-tenant policies overriding the tenant files' (tests).
    :param mailer: makes the SMTP mailer; default from ``options.smtp`` (None: no mail).
    :param notifier: systemd's notifications; default from ``$NOTIFY_SOCKET`` (none: off).
    """

    def __init__(
        self,
        settings: DaemonSettings,
        options: DaemonOptions | None = None,
        *,
        host: PluginHost | None = None,
        clock: Clock | None = None,
        policies: dict[str, DaemonPolicy] | None = None,
        mailer: Callable[[], Mailer | None] | None = None,
        replica: str | None = None,
        redactor: RedactingFilter | None = None,
        notifier: ServiceNotifier | None = None,
    ) -> None:
        self.settings = settings
        self.options = options or DaemonOptions.from_settings(settings)
        self.clock = clock or SystemClock()
        self.replica = replica or replica_id()
        self._host = host
        self._policies = policies or {}
        self._mailer = mailer or self._smtp_mailer
        self._redactor = redactor
        self.runtime: Runtime | None = None
        self.leases: LeaseBook | None = None
        self.metrics = Metrics(self.clock, lambda: self.runtime.db if self.runtime else None)
        self.server: HealthServer | None = None
        self.api: ApiServer | None = None
        self.is_leader = False
        self._lock: SingleDaemonLock | None = None
        self._stop = threading.Event()
        self._held: set[str] = set()
        self._held_lock = threading.Lock()
        self._failures: dict[str, int] = {}
        self._progress = time.monotonic()
        self._heartbeat: threading.Thread | None = None
        self._watchdogs: list[threading.Timer] = []
        self.notifier = notifier or ServiceNotifier.from_environment()
        self._reload = threading.Event()  # SIGHUP: re-read the tenant files now
        # What install_signal_handlers replaced: a callable, SIG_DFL/SIG_IGN, or None.
        self._replaced_handlers: dict[int, Callable[..., object] | int | None] = {}

    # ------------------------------------------------------------------ lifecycle

    def start(self, serve: bool = False) -> Daemon:
        """Refuse a second daemon on SQLite, connect, load plugins and tenants.

        :raises DaemonAlreadyRunning: SQLite, and another daemon holds its lock.
        :raises DatabaseError: the database cannot be reached.
        :raises ConfigError: the tenants directory does not exist.
        """
        database = sqlite_file(self.settings.database_url)
        if database is not None:
            self._lock = SingleDaemonLock(database)
            self._lock.acquire()
        try:
            host = self._host or load_plugins()
            pool = self.settings.database_pool
            db = Database(
                self.settings.database_url,
                timeouts=self.settings.database_timeouts.timeouts(),
                pool_size=pool.size,
                max_overflow=pool.overflow,
            )
            self.runtime = Runtime(self.settings, db, host, {})
            self.leases = LeaseBook(db, self.replica, self.clock)
            self.reload_tenants()
            if serve and self.options.metrics_port is not None:
                self.server = HealthServer(
                    self.options.metrics_host, self.options.metrics_port,
                    self.metrics.registry, self.liveness, self.readiness,
                ).start()  # fmt: skip
            if serve and self.options.api_port is not None:
                # After migrations and the tenants: the first request finds both ready.
                self.api = ApiServer(
                    self.runtime, self.options.api_host, self.options.api_port,
                    graceful_seconds=self._api_grace(),
                ).start()  # fmt: skip
        except BaseException:
            self.close()
            raise
        self._heartbeat = threading.Thread(target=self._renew_loop, name="leases", daemon=True)
        self._heartbeat.start()
        log.info("daemon %s started on %s", self.replica, db.dialect)
        return self

    def close(self) -> None:
        """Stop the API, hand back every lease, stop serving, drop the lock and connections."""
        self._stop.set()
        self.notifier.stopping("stopping: handing back the leases")
        for timer in self._watchdogs:
            timer.cancel()
        if self.api is not None:
            # First: its requests use the database that is disposed of below.
            self.api.stop()
            self.api = None
        if self.leases is not None:
            try:
                released = self.leases.release_all()
                if released:
                    log.info("handed back %s", ", ".join(released))
            except Exception as exc:  # leases expire by themselves if this fails
                log.warning("leases not released (they expire on their own): %s", exc)
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.runtime is not None:
            self.runtime.db.dispose()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def reload_tenants(self) -> None:
        """Re-read the tenant files: good ones are served; broken ones are logged,
        listed on ``/readyz`` and counted in ``connector_tenant_file_problems``."""
        assert self.runtime is not None
        loaded = load_tenants_isolated(self.settings.tenants_dir, self.runtime.plugins)
        self.runtime.tenants = loaded.tenants
        self.runtime.skipped = loaded.skipped
        self.metrics.tenants.set(len(loaded.tenants))
        self.metrics.tenant_files_skipped(
            {path.name: len(skipped.issues) for path, skipped in loaded.skipped.items()}
        )
        if self._redactor is not None:
            smtp = self.options.smtp
            extra = [os.environ.get(smtp.password_env, "")] if smtp.password_env else []
            self._redactor.add_secrets(known_secrets(self.settings, loaded.tenants.values(), extra))

    # ------------------------------------------------------------------ signals

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT: finish or hand back the unit in hand, then exit; SIGHUP: reload.

        The first signal asks the loop to stop at the next step boundary; if the step
        is still running ``shutdown_seconds`` later, the main thread is interrupted
        (KeyboardInterrupt: its transaction rolls back, the unit is handed back). A
        second signal interrupts at once.

        SIGHUP (``systemctl reload``) re-reads the tenant files at the next step
        boundary (within a tick when idle) instead of at the next ``refresh_minutes``.
        """
        ours = {signal.SIGTERM: self._on_signal, signal.SIGINT: self._on_signal,
                signal.SIGHUP: self._on_reload_signal}  # fmt: skip
        for signum, handler in ours.items():
            self._replaced_handlers.setdefault(signum, signal.signal(signum, handler))

    def restore_signal_handlers(self) -> None:
        """Put back the handlers :meth:`install_signal_handlers` replaced.

        The process outlives the daemon when it runs in-process (tests, an embedding
        program): handlers bound to a closed daemon must not answer its next signal.
        """
        for signum, handler in self._replaced_handlers.items():
            # None: installed outside Python; the default is the closest we can give back.
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        self._replaced_handlers.clear()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self._stop.is_set():
            raise KeyboardInterrupt
        name = signal.Signals(signum).name
        log.info("%s received: finishing the unit in hand", name)
        self.notifier.stopping(f"{name} received: finishing the unit in hand")
        self.stop()
        main = threading.main_thread().ident
        grace = max(1.0, self.options.shutdown_seconds - 5)
        interrupt = threading.Timer(grace, signal.pthread_kill, (main, signal.SIGINT))
        hard = threading.Timer(self.options.shutdown_seconds, self._exit_now)
        for timer in (interrupt, hard):
            timer.daemon = True
            timer.start()
            self._watchdogs.append(timer)

    def _on_reload_signal(self, _signum: int, _frame: FrameType | None) -> None:
        # Only a flag: the handler runs between two bytecodes of whatever the main
        # thread does, so the tenants are swapped where no unit is in hand.
        self.request_reload()

    def request_reload(self) -> None:
        """Ask for the tenant files to be re-read at the next step boundary (thread-safe)."""
        self._reload.set()

    def _reload_if_asked(self) -> None:
        if not self._reload.is_set() or self.runtime is None:
            return
        self._reload.clear()
        log.info("reload asked: re-reading the tenant files in %s", self.settings.tenants_dir)
        self.notifier.reloading("reloading: re-reading the tenant files")
        self._guarded(self.reload_tenants)
        # Enrol a new tenant's units now rather than at the next leadership renewal.
        self._guarded(self.lead)
        self.notifier.ready(self._serving_status())

    def _serving_status(self) -> str:
        """What ``systemctl status`` shows while the daemon serves."""
        if self.runtime is None:
            return "starting"
        status = f"serving {len(self.runtime.tenants)} tenant(s)"
        if self.runtime.skipped:
            status += f", {len(self.runtime.skipped)} tenant file(s) skipped (see /readyz)"
        return status

    def _api_grace(self) -> float:
        """Seconds the API's requests in flight get on shutdown: a third of the bound,
        so the unit in hand and the lease hand-back keep the rest."""
        return min(10.0, max(1.0, self.options.shutdown_seconds / 3))

    def _exit_now(self) -> None:
        log.error("shutdown took longer than %ss: exiting; leases expire on their own",
                  self.options.shutdown_seconds)  # fmt: skip
        logging.shutdown()
        os._exit(0)

    def stop(self) -> None:
        """Ask the loop to stop after the current step (thread-safe)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # ------------------------------------------------------------------ probes

    def liveness(self) -> tuple[bool, dict]:
        """The loop made progress recently (a stuck loop is restarted by the operator)."""
        idle = time.monotonic() - self._progress
        limit = max(4 * self.options.lease_seconds, 10 * self.options.tick_seconds)
        return idle < limit, {"replica": self.replica, "seconds_since_progress": round(idle, 1)}

    def readiness(self) -> tuple[bool, dict]:
        """Started, not shutting down, and the database answers."""
        details = {"replica": self.replica, "leader": self.is_leader}
        if self.runtime is None or self.stopping:
            return False, {**details, "reason": "stopping" if self.stopping else "starting"}
        with self.runtime.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        # A skipped tenant file does not make the replica unready: the others are served.
        skipped = {path.name: len(s.issues) for path, s in sorted(self.runtime.skipped.items())}
        return True, {**details, "tenants": len(self.runtime.tenants),
                      "skipped_tenant_files": skipped}  # fmt: skip

    # ------------------------------------------------------------------ work

    def lead(self) -> bool:
        """Take or keep the clock leadership; the leader enrols and retires units."""
        assert self.leases is not None and self.runtime is not None
        self.is_leader = self.leases.claim(LEADER, self.options.lease_seconds)
        self._track(LEADER, self.is_leader)
        self.metrics.leader.set(1 if self.is_leader else 0)
        wanted = [u.name for u in units_of(self.runtime)]
        self.leases.enrol(wanted)
        if self.is_leader:
            retired = self.leases.retire(PREFIX, wanted)
            if retired:
                log.info("retired %d unit(s) of tenants no longer configured", retired)
        return self.is_leader

    def run_once(self) -> PassReport:
        """One pass (``connector run --once``): lead if possible, do every due unit once."""
        with self.metrics.time_pass():
            self.lead()
            return self.work_due()

    def work_due(self) -> PassReport:
        """Claim and run due units until none is due (each at most once per call)."""
        assert self.leases is not None
        report = PassReport()
        seen: set[str] = set()
        while not self.stopping:
            self._progress = time.monotonic()
            self._reload_if_asked()
            name = self.leases.claim_due(PREFIX, self.options.lease_seconds, exclude=seen)
            if name is None:
                break
            seen.add(name)
            self._run_claimed(name, report)
        return report

    def _run_claimed(self, name: str, report: PassReport) -> None:
        assert self.leases is not None
        unit = Unit.parse(name)
        self._track(name, True)
        due_in, state = 0.0, IDLE  # handed back at once unless it finished or failed
        # Pokes until now are answered by this run, which reads its work after this.
        self.leases.take_poke(name)
        started = time.monotonic()
        try:
            run_unit(self._context(), unit)
        except HandBack:
            report.handed_back.append(name)
            log.info("handed back %s for shutdown after %.1f s", name, time.monotonic() - started)
        except Exception as exc:
            count = self._failures.get(name, 0) + 1
            self._failures[name] = count
            due_in, state = self.backoff(count), BACKOFF
            report.failed.append(name)
            self.metrics.unit_failures.labels(unit.tenant, unit.kind).inc()
            seconds = time.monotonic() - started
            with log_context(tenant=unit.tenant, provider=unit.provider, unit=name):
                log.error("%s failed after %.1f s (attempt %d), retried in %.0fs: %s: %s",
                          name, seconds, count, due_in, type(exc).__name__, exc, exc_info=True,
                          extra={"duration_seconds": round(seconds, 3)})  # fmt: skip
        else:
            self._failures.pop(name, None)
            # Poked while running (approvals after it read the outbox): due again now.
            due_in = 0.0 if self.leases.take_poke(name) else self._context().interval(unit)
            report.done.append(name)
        finally:
            # Also on KeyboardInterrupt (shutdown deadline): the unit goes back due now.
            try:
                self.leases.release(name, due_in, state)
            finally:
                self._track(name, False)
                self._progress = time.monotonic()

    def backoff(self, failures: int) -> float:
        """Seconds before a unit that failed ``failures`` times in a row runs again:
        tenacity's exponential wait, base doubling up to the cap."""
        wait = wait_exponential(
            multiplier=self.options.backoff_base_seconds, max=self.options.backoff_max_seconds
        )
        state = RetryCallState(None, None, (), {})
        state.attempt_number = failures
        return wait(state)

    def run_forever(self) -> None:
        """Run until :meth:`stop` (or a signal): the ``schedule`` clock drives the passes."""
        clock = schedule.Scheduler()
        every = self.options
        clock.every(max(1, int(every.lease_seconds / 3))).seconds.do(self._guarded, self.lead)
        clock.every(max(1, int(every.refresh_seconds))).seconds.do(
            self._guarded, self.reload_tenants
        )
        clock.every(max(1, int(every.tick_seconds))).seconds.do(self._guarded, self._timed_pass)
        # Started (migrations, plugins, tenants, health and API servers up): ready, before
        # the first pass, which may take longer than systemd's start timeout.
        self.notifier.ready(self._serving_status())
        self.notifier.start_watchdog(lambda: self.liveness()[0], self._stop)
        clock.run_all()
        while not self.stopping:
            self._progress = time.monotonic()
            self._reload_if_asked()
            clock.run_pending()
            idle = clock.idle_seconds
            self._stop.wait(max(0.05, min(self.options.tick_seconds, idle or 0.05)))

    def _guarded(self, job: Callable[[], object]) -> None:
        # A database outage must not end a long-running daemon: /readyz says 503 and
        # the next tick tries again (tenant failures never get here: see _run_claimed).
        try:
            job()
        except Exception as exc:
            log.error("%s failed, retried next tick: %s: %s", getattr(job, "__name__", job),
                      type(exc).__name__, exc)  # fmt: skip

    def _timed_pass(self) -> None:
        with self.metrics.time_pass():
            report = self.work_due()
        if report.done or report.failed:
            self.notifier.status(
                f"{self._serving_status()}; last pass at {time.strftime('%H:%M:%S')}: "
                f"{len(report.done)} unit(s) done, {len(report.failed)} failed"
            )

    # ------------------------------------------------------------------ helpers

    def policy(self, tenant: str) -> DaemonPolicy:
        if tenant in self._policies:
            return self._policies[tenant]
        assert self.runtime is not None
        return self.runtime.tenant(tenant).daemon

    def _smtp_mailer(self) -> Mailer | None:
        smtp = self.options.smtp
        if not smtp.host:
            return None
        return SmtpMailer(smtp.host, smtp.port, smtp.security, smtp.credentials(),
                          smtp.ca_file, smtp.timeout_seconds)  # fmt: skip

    def _checkpoint(self) -> None:
        self._progress = time.monotonic()
        if self.stopping:
            raise HandBack

    def _context(self) -> WorkContext:
        assert self.runtime is not None and self.leases is not None
        return WorkContext(
            self.runtime, self.clock, self.options, self.metrics, self.policy,
            self._mailer, self._checkpoint, self.leases.poke,
        )  # fmt: skip

    def _track(self, name: str, held: bool) -> None:
        with self._held_lock:
            (self._held.add if held else self._held.discard)(name)

    def _renew_loop(self) -> None:
        # A long unit (a large ingest) keeps its lease; a replica that dies stops
        # renewing and its units are taken over once the lease runs out.
        every = max(0.5, self.options.lease_seconds / 3)
        while not self._stop.wait(every):
            with self._held_lock:
                held = sorted(self._held)
            try:
                lost = self.leases.renew(held, self.options.lease_seconds) if self.leases else []
            except Exception as exc:
                log.warning("lease renewal failed: %s", type(exc).__name__)
                continue
            for name in lost:
                log.warning("lease %s was lost to another replica", name)
