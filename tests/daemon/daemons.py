"""How the daemon tests set a daemon up: its settings, the daemon, a look at its database."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Iterable
from contextlib import AbstractContextManager, nullcontext
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from connector.config.settings import DaemonSettings
from connector.config.tenant import DaemonPolicy
from connector.daemon.clock import FrozenClock
from connector.daemon.loop import Daemon
from connector.daemon.options import DaemonOptions
from tests.daemon import fakes

# The business-day close of October 2026 (five weekdays after Saturday 31 October).
CLOSED = dt.datetime(2026, 11, 6, 10, 0, tzinfo=dt.UTC)


def sqlite_settings(folder: Path, tenants: Path, database: str = "c.db") -> DaemonSettings:
    """Settings for the tenant files in ``tenants``, the database and output in ``folder``."""
    return DaemonSettings(
        database_url=f"sqlite:///{folder / database}",
        tenants_dir=tenants,
        output_dir=folder / "out",
    )


def settings_file(folder: Path, tenants: Path, more: str = "", database: str = "c.db") -> Path:
    """``folder/connector.yaml`` as :func:`sqlite_settings` has it, ``more`` (YAML) added."""
    path = folder / "connector.yaml"
    path.write_text(
        f"database_url: sqlite:///{folder / database}\ntenants_dir: {tenants}\n"
        f"output_dir: {folder / 'out'}\n{more}"
    )
    return path


def solo_settings(folder: Path) -> DaemonSettings:
    """One tenant, "solo", with one customer charged 1.00 for October."""
    tenants = folder / "tenants"
    tenants.mkdir(exist_ok=True)
    fakes.write_tenant(tenants, "solo", [("C1", "Solo Co", "ap@solo.example", "111111111111")])
    fakes.write_charges(tenants, {"111111111111": "1.00"})
    return sqlite_settings(folder, tenants, "connector.db")


def approving_daemon(
    folder: Path,
    tenants: Path,
    approving: Iterable[str],
    options: DaemonOptions | None = None,
    **parts: Any,
) -> Daemon:
    """A daemon, not started, whose clock stands at :data:`CLOSED` and that approves the
    statements of the tenants named in ``approving`` itself. ``parts`` replace the
    daemon's host (the erp simulator's), clock or mailer (a recording one), or add to them."""
    defaults: dict[str, Any] = {
        "host": fakes.plugin_host(fakes.erp_simulator()),
        "clock": FrozenClock(CLOSED),
        "mailer": fakes.RecordingMailer,
    }
    return Daemon(
        sqlite_settings(folder, tenants),
        options or DaemonOptions(metrics_port=None),
        policies={tenant: DaemonPolicy(auto_approve=True) for tenant in approving},
        **{**defaults, **parts},
    )


class MailboxFile:
    """The mailer of a daemon run in a process of its own: each message is a line
    "Message-ID To" of the file named by $MAILBOX, appended under a lock."""

    def connect(self) -> AbstractContextManager[MailboxFile]:
        return nullcontext(self)

    def send(self, message: EmailMessage) -> None:
        with open(os.environ["MAILBOX"], "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.write(f"{message['Message-ID']} {message['To']}\n")


def database_rows(url: str, sql: str) -> list:  # type: ignore[type-arg]
    """The rows of a query, read with an engine of its own (the daemon runs elsewhere)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)))
    finally:
        engine.dispose()
