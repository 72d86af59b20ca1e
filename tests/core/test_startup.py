"""`connector --help` and `--version` start without the stack: no SQLAlchemy, Alembic,
pydantic, DuckDB, ReportLab, SDK, FastAPI or Jinja2 is imported, and loading the
plugins imports no SDK. What each run imports is read from ``python -X importtime``
in a fresh process (benchmarks/startup.py times it)."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import click
import pytest

from connector.cli.main import LAZY_COMMANDS, main

# The stack a command needs only once it runs.
HEAVY = {
    "sqlalchemy", "alembic", "pydantic", "pydantic_settings", "duckdb", "reportlab",
    "boto3", "botocore", "xero_python", "quickbooks", "SoftLayer", "fastapi", "starlette",
    "uvicorn", "jinja2", "lxml", "requests", "yaml",
}  # fmt: skip
# What a plugin's SDK or format library is: loading the registries imports none.
SDKS = {
    "duckdb", "reportlab", "boto3", "botocore", "xero_python", "quickbooks", "SoftLayer",
    "jinja2", "lxml", "requests",
}  # fmt: skip


def imported(code: str) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The top-level packages a fresh interpreter imports running ``code``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True
    )
    names = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return names, done


def cli(*args: str) -> str:
    return f"import sys; sys.argv = ['connector', *{list(args)!r}]; import connector.__main__"


@pytest.mark.parametrize("args", [("--help",), ("--version",), ("statements", "--help")])
def test_help_and_version_import_none_of_the_stack(args: tuple[str, ...]) -> None:
    names, done = imported(cli(*args))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "connector.cli.main" in {line.rsplit("|", 1)[-1].strip() for line in
                               done.stderr.splitlines()}  # fmt: skip
    assert names & HEAVY == set()


def test_version_prints_the_installed_distribution_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "connector", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"connector, version {version('billing-connector')}\n"


def test_help_lists_every_command_with_its_own_short_help() -> None:
    """The lazy map's help is what the command itself says, at any terminal width."""
    for name, lazy in LAZY_COMMANDS.items():
        command = main.get_command(click.Context(main), name)
        assert command is not None and command.name == name
        for limit in (30, 45, 80, 300):
            listed = click.Command(name, help=lazy.help).get_short_help_str(limit)
            assert listed == command.get_short_help_str(limit), name
    shown = main.get_help(click.Context(main, info_name="connector"))
    for name in [*LAZY_COMMANDS, "db", "ingest", "demo"]:
        assert f"\n  {name} " in shown


def test_loading_the_plugins_imports_no_sdk() -> None:
    names, done = imported(
        "from connector.plugins import load_plugins; host = load_plugins(); "
        "assert 'aws' in host.providers and 'xero' in host.sinks and 'pdf' in host.renderers; "
        "assert not [r for r in host.pm.records if r.status != 'loaded'], host.pm.records"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert names & SDKS == set()
