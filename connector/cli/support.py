"""What every ``connector`` subcommand shares: state, options, errors and exit codes.

What commands print with is in :mod:`connector.cli.output`.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from connector.cli.output import err_console

# The pipeline, the storage and the settings (SQLAlchemy, pydantic ...) are imported
# when a command runs, not when `connector --help` starts.
if TYPE_CHECKING:
    from connector.runtime.runtime import Runtime

EXIT_CONFIG, EXIT_DATABASE, EXIT_DATA, EXIT_BILLING, EXIT_PLUGIN = 1, 3, 4, 5, 6


def cli_actor() -> str:
    """Who the audit trail names for a command: the login name is the best the command
    line knows."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def fail(code: int, message: str) -> None:
    err_console.print("[bold red]error:[/]", end=" ")
    err_console.print(message, markup=False, highlight=False, soft_wrap=True)
    sys.exit(code)


def handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the errors users cause into a clear message and a meaningful exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from connector.access.tokens import TokenKeyError
        from connector.config.errors import ConfigError
        from connector.contracts import PluginError, SourceDataError
        from connector.pipeline.build.build import BuildError
        from connector.pipeline.review.approve import ApprovalError
        from connector.runtime.runtime import TenantNotFoundError
        from connector.storage.db import DatabaseError

        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            fail(EXIT_CONFIG, f"{len(exc.issues)} configuration problem(s):\n{exc}")
        except TokenKeyError as exc:
            fail(EXIT_CONFIG, str(exc))
        except DatabaseError as exc:
            fail(EXIT_DATABASE, str(exc))
        except SourceDataError as exc:
            fail(EXIT_DATA, str(exc))
        except (BuildError, ApprovalError, TenantNotFoundError, LookupError, ValueError) as exc:
            # A KeyError's str() is its message in quotes; the message alone is wanted.
            keyed = isinstance(exc, KeyError) and len(exc.args) == 1
            fail(EXIT_BILLING, str(exc.args[0]) if keyed else str(exc))
        except PluginError as exc:
            fail(EXIT_PLUGIN, str(exc))

    return wrapper


class State:
    """What the ``connector`` group hands its commands.

    :param migrate: whether opening the runtime migrates the database; the group
        passes False for commands that must find it migrated already.
    """

    def __init__(self, config_path: Path | None, migrate: bool = True) -> None:
        self.config_path = config_path
        self.migrate = migrate
        self._runtime: Runtime | None = None

    def runtime(self) -> Runtime:
        """Settings, database, plugins and every good tenant file.

        A command names its tenant; another tenant's broken file must not stop it, so
        that file is only named in a warning (asking for its own tenant is the error).
        """
        from connector.config.settings import load_settings
        from connector.runtime.runtime import open_runtime

        if self._runtime is None:
            settings = load_settings(self.config_path)
            self._runtime = open_runtime(settings, migrate=self.migrate)
            for path, skipped in sorted(self._runtime.skipped.items()):
                err_console.print("[yellow]warning[/]:", end=" ")
                err_console.print(
                    f"tenant file {path} skipped: {len(skipped.issues)} configuration "
                    "problem(s), listed by `connector check-config`",
                    markup=False, highlight=False, soft_wrap=True,
                )  # fmt: skip
        return self._runtime

    def close(self) -> None:
        """Close the database connections the command opened (its pool would keep them
        open until garbage-collected: on PostgreSQL, server connections)."""
        if self._runtime is not None:
            self._runtime.db.dispose()
            self._runtime = None


pass_state = click.make_pass_decorator(State)


tenant_option = click.option("--tenant", required=True, help="Tenant name (its file's 'tenant').")
provider_option = click.option("--provider", required=True, help="Provider key, e.g. aws.")
period_option = click.option("--period", help="Billing period as YYYY-MM.")
