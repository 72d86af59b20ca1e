"""systemd service notifications (sd_notify): readiness, watchdog, status, reload, stop.

Under ``Type=notify`` systemd starts the units that wait for the connector only once it
says ``READY=1``, restarts it when ``WATCHDOG=1`` stops coming for ``WatchdogSec=``,
and shows ``STATUS=`` in ``systemctl status``. Without ``$NOTIFY_SOCKET`` (a terminal,
cron, a container, the tests) every call here does nothing.

Written over the documented protocol (sd_notify(3): one datagram of newline-separated
``KEY=VALUE`` lines to the ``AF_UNIX`` socket ``$NOTIFY_SOCKET`` names, ``@`` meaning the
abstract namespace) instead of the ``sdnotify`` package, which does not fit:

- its ``notify()`` ends in a bare ``except:``, which swallows the ``KeyboardInterrupt``
  the daemon raises in its main thread to cut a step stuck past the shutdown deadline
  (``Daemon._on_signal``): a stop could then overrun systemd's ``TimeoutStopSec``;
- it does not read ``$WATCHDOG_USEC`` / ``$WATCHDOG_PID``, so the ping interval and
  whether this process is the one watched would be written here anyway;
- its only release (0.3.2, 2017) is an sdist whose ``setup.py`` imports ``distutils``,
  gone from the standard library since Python 3.12.

The protocol itself is ``send()`` below: one ``sendto`` per notification.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


class ServiceNotifier:
    """Sends notifications to systemd's socket; a no-op when there is none.

    :param address: ``$NOTIFY_SOCKET`` (a path, or ``@name`` for an abstract socket).
    :param watchdog_seconds: ``$WATCHDOG_USEC`` in seconds; None: no watchdog asked for.
    """

    def __init__(self, address: str | None, watchdog_seconds: float | None = None) -> None:
        self.address = address or None
        self.watchdog_seconds = watchdog_seconds
        self._socket: socket.socket | None = None
        self._warned = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ServiceNotifier:
        """The notifier systemd set up for this process (``sd_watchdog_enabled`` rules:
        ``$WATCHDOG_PID``, when set, must be this process, or the watchdog is not ours)."""
        env = os.environ if environ is None else environ
        watchdog: float | None = None
        usec, pid = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
        if usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid())):
            watchdog = int(usec) / 1_000_000
        return cls(env.get("NOTIFY_SOCKET"), watchdog)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *fields: str) -> bool:
        """Send ``fields`` (``KEY=VALUE``) as one message; True when it was sent.

        Never raises: a notification that cannot be sent is logged once, and the daemon
        goes on working (systemd then restarts it if the watchdog is on, which is right).
        """
        if self.address is None:
            return False
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._socket.sendto("\n".join(fields).encode(), target)
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warning("systemd notification to %s failed: %s", self.address, exc)
            return False
        return True

    def ready(self, status: str) -> bool:
        """Start-up (or a reload) is complete: the service is serving."""
        return self.send("READY=1", f"STATUS={status}")

    def reloading(self, status: str) -> bool:
        """A reload begins; ``ready()`` ends it. MONOTONIC_USEC is what systemd 253's
        ``Type=notify-reload`` asks for, and older versions ignore."""
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.send("RELOADING=1", f"MONOTONIC_USEC={usec}", f"STATUS={status}")

    def stopping(self, status: str) -> bool:
        """Shutdown has begun."""
        return self.send("STOPPING=1", f"STATUS={status}")

    def status(self, status: str) -> bool:
        """A line for ``systemctl status``."""
        return self.send(f"STATUS={status}")

    def watchdog(self) -> bool:
        """The service is alive; systemd's ``WatchdogSec=`` timer starts again."""
        return self.send("WATCHDOG=1")

    def start_watchdog(self, healthy: Callable[[], bool], stop: threading.Event) -> bool:
        """Ping the watchdog three times per ``WatchdogSec=`` while ``healthy()`` holds.

        A thread, not the loop's tick: a long step (a large ingest, an ERP retrying)
        keeps the main thread for longer than any sane ``WatchdogSec=``, yet the daemon
        is healthy. ``healthy`` is the daemon's own liveness (``/healthz``: the loop made
        progress recently); once it fails, the pings stop and systemd restarts the
        service ``WatchdogSec=`` later. False when no watchdog was asked for.
        """
        if self.address is None or not self.watchdog_seconds:
            return False
        every = self.watchdog_seconds / 3

        def ping() -> None:
            while not stop.wait(every):
                try:
                    alive = healthy()
                except Exception as exc:  # a probe that fails says "not healthy"
                    log.warning("watchdog liveness check failed: %s", exc)
                    alive = False
                if alive:
                    self.watchdog()

        self.watchdog()
        threading.Thread(target=ping, name="systemd-watchdog", daemon=True).start()
        return True

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
