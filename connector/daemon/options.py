"""The daemon's knobs, from the settings and tenant files, as plain values.

Tests build these objects directly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from connector.config.settings import DaemonSettings


@dataclass(frozen=True, slots=True)
class SmtpOptions:
    """Where notification emails go; ``host`` None switches notifications off."""

    host: str | None = None
    port: int = 587
    security: str = "starttls"  # starttls | tls | none
    username_env: str | None = None
    password_env: str | None = None
    from_address: str | None = None
    ca_file: Path | None = None
    timeout_seconds: float = 30.0

    def credentials(self) -> tuple[str, str] | None:
        """(user, password) from the named environment variables, None without a user.

        :raises LookupError: a variable is named but not set (named, value never shown).
        """
        if not self.username_env:
            return None
        values = []
        for name in (self.username_env, self.password_env):
            if name is None:
                values.append("")
                continue
            value = os.environ.get(name)
            if value is None:
                raise LookupError(f"SMTP credential variable {name} is not set")
            values.append(value)
        return values[0], values[1]


@dataclass(frozen=True, slots=True)
class DaemonOptions:
    """How often each kind of work runs, how leases behave, where metrics and API listen."""

    refresh_seconds: float = 3600.0  # refresh + close + build + approve, per provider
    outbox_seconds: float = 30.0  # push + notify, per tenant
    sync_seconds: float = 3600.0  # payment status + Past Due, per tenant
    lease_seconds: float = 300.0  # a held unit's lease; renewed at a third of it
    backoff_base_seconds: float = 60.0
    backoff_max_seconds: float = 3600.0
    shutdown_seconds: float = 25.0  # SIGTERM to exit, below systemd's TimeoutStopSec
    tick_seconds: float = 1.0  # how often the loop looks for due work
    notify_max_age_days: int = 7  # never email about statements approved before this
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = 9464  # None: no HTTP server
    api_host: str = "127.0.0.1"
    api_port: int | None = None  # None: the billing API is not served by the daemon
    log_format: str = "json"
    smtp: SmtpOptions = field(default_factory=SmtpOptions)

    @classmethod
    def from_settings(cls, settings: DaemonSettings) -> DaemonOptions:
        """The options ``settings`` give."""
        schedule, mail = settings.schedule, settings.smtp
        smtp = SmtpOptions(
            host=mail.host,
            port=mail.port,
            security=mail.security,
            username_env=mail.username_env,
            password_env=mail.password_env,
            from_address=mail.from_address,
            ca_file=mail.ca_file,
            timeout_seconds=mail.timeout_seconds,
        )
        return cls(
            refresh_seconds=60.0 * schedule.refresh_minutes,
            outbox_seconds=float(schedule.outbox_seconds),
            sync_seconds=60.0 * schedule.sync_minutes,
            lease_seconds=float(schedule.lease_seconds),
            backoff_max_seconds=60.0 * schedule.backoff_max_minutes,
            shutdown_seconds=float(schedule.shutdown_seconds),
            notify_max_age_days=mail.notify_max_age_days,
            metrics_host=settings.metrics.host,
            metrics_port=settings.metrics.port or None,
            api_host=settings.api.host,
            api_port=settings.api.port if settings.api.enabled else None,
            log_format=settings.log_format,
            smtp=smtp,
        )
