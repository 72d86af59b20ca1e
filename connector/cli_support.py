"""What every ``connector`` subcommand shares: state, options, errors, output."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from connector.config.errors import ConfigError
from connector.config.settings import load_settings
from connector.contracts import PluginError, SourceDataError
from connector.pipeline.approve import ApprovalError
from connector.pipeline.build import BuildError
from connector.pipeline.runtime import Runtime, TenantNotFoundError, open_runtime
from connector.pipeline.tokens import TokenKeyError
from connector.storage.db import DatabaseError

EXIT_CONFIG, EXIT_DATABASE, EXIT_DATA, EXIT_BILLING, EXIT_PLUGIN = 1, 3, 4, 5, 6

console = Console()
err_console = Console(stderr=True)


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
    def __init__(self, config_path: Path | None) -> None:
        self.config_path = config_path
        self._runtime: Runtime | None = None

    def runtime(self) -> Runtime:
        """Settings, database, plugins and every good tenant file.

        A command names its tenant; another tenant's broken file must not stop it, so
        that file is only named in a warning (asking for its own tenant is the error).
        """
        if self._runtime is None:
            self._runtime = open_runtime(load_settings(self.config_path))
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


def money(value: Decimal) -> str:
    """Statement amounts as stored; full-precision sums shown to 4 places for reading."""
    if value.as_tuple().exponent < -4:
        value = value.quantize(Decimal("0.0001"))
    return f"{value:,}"


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


tenant_option = click.option("--tenant", required=True, help="Tenant name (its file's 'tenant').")
provider_option = click.option("--provider", required=True, help="Provider key, e.g. aws.")
period_option = click.option("--period", help="Billing period as YYYY-MM.")
