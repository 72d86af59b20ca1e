"""``connector run``: the daemon, as a service (systemd) or one pass (``--once``, cron).

Exit codes: 0 the pass ran (tenant failures are logged and counted, not fatal); 1
configuration error; 3 database unreachable; 7 another daemon already runs on this
SQLite database.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from connector.cli.support import EXIT_CONFIG, EXIT_DATABASE, State, fail

if TYPE_CHECKING:  # the daemon's modules are imported when it runs, not by --help
    from connector.daemon.loop import Daemon
    from connector.daemon.options import DaemonOptions

EXIT_ALREADY_RUNNING = 7
# An error nobody foresaw (sysexits' EX_SOFTWARE): not 1, which the systemd unit reads
# as "the configuration is wrong, do not restart"; a crash is what a restart is for.
EXIT_CRASH = 70
log = logging.getLogger("connector.daemon")


def _config_path() -> Path | None:
    ctx = click.get_current_context()
    state = ctx.find_object(State)
    if state is not None:
        return state.config_path
    value = ctx.params.get("config_path")
    return Path(value) if value else None


@click.command("run")
@click.option("--once", is_flag=True, help="Do one pass over the due work and exit (cron).")
@click.option(
    "--metrics-port",
    type=int,
    default=None,
    help="Port of /healthz, /readyz and /metrics [settings metrics.port, 9464]; 0: none.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    envvar="CONNECTOR_CONFIG",
    hidden=True,
    help="Daemon settings file (when run outside the `connector` group).",
)
def run(once: bool, metrics_port: int | None, config_path: Path | None) -> None:
    """Run the daemon: refresh, close, build, approve, push, notify, sync, per tenant."""
    from connector.config.errors import ConfigError
    from connector.config.settings import load_settings
    from connector.daemon.logs import configure_logging, known_secrets
    from connector.daemon.loop import Daemon
    from connector.daemon.options import DaemonOptions

    try:
        settings = load_settings(_config_path())
    except ConfigError as exc:
        fail(EXIT_CONFIG, f"{len(exc.issues)} configuration problem(s):\n{exc}")
    options = DaemonOptions.from_settings(settings)
    if metrics_port is not None:
        options = _with_port(options, metrics_port)
    smtp = options.smtp
    redactor = configure_logging(
        settings.log_level,
        options.log_format,
        secrets=known_secrets(settings, [], [_env(smtp.password_env)]),
    )
    daemon = Daemon(settings, options, redactor=redactor)
    daemon.install_signal_handlers()  # before start: a stop during migrations is honoured
    try:
        code = _start_and_run(daemon, once)
    finally:
        # An in-process run (CliRunner, an embedding program) gets its handlers back.
        daemon.restore_signal_handlers()
    sys.exit(code)


def _start_and_run(daemon: Daemon, once: bool) -> int:
    """Start (exiting with the code of what prevents it), then one pass or serve; the code."""
    from sqlalchemy.exc import DBAPIError

    from connector.config.errors import ConfigError
    from connector.daemon.singleton import DaemonAlreadyRunning
    from connector.storage.db import DatabaseError

    try:
        daemon.start(serve=not once)
    except DaemonAlreadyRunning as exc:
        fail(EXIT_ALREADY_RUNNING, str(exc))
    except DatabaseError as exc:
        fail(EXIT_DATABASE, str(exc))
    except ConfigError as exc:
        fail(EXIT_CONFIG, f"{len(exc.issues)} configuration problem(s):\n{exc}")
    code = 0
    try:
        if once:
            report = daemon.run_once()
            log.info("pass done: %d unit(s) done, %d failed, %d handed back",
                     len(report.done), len(report.failed), len(report.handed_back))  # fmt: skip
        else:
            daemon.run_forever()
    except KeyboardInterrupt:
        log.info("interrupted at the shutdown deadline; the unit in hand was handed back")
    except DBAPIError as exc:
        log.error("database error, the pass could not run: %s", type(exc.orig).__name__)
        code = EXIT_DATABASE
    except Exception:
        log.exception("the daemon stopped on an unexpected error; exit %d", EXIT_CRASH)
        code = EXIT_CRASH
    finally:
        daemon.close()
        log.info("daemon %s stopped", daemon.replica)
    return code


def _env(name: str | None) -> str:
    import os

    return os.environ.get(name, "") if name else ""


def _with_port(options: DaemonOptions, port: int) -> DaemonOptions:
    from dataclasses import replace

    return replace(options, metrics_port=port or None)


if __name__ == "__main__":  # python -m connector.cli.daemon, before `connector run` exists
    run()
