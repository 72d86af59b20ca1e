"""A click group whose subcommands are imported only when one is invoked.

click's documented LazyGroup pattern: each subcommand is named by ``module:attribute``
and its module imported on first use, so ``connector --help`` and ``connector
--version`` do not import the pipeline, SQLAlchemy, pydantic or any plugin. The
listing ``--help`` prints needs each command's short help without importing it:
the map carries it (tests/core/test_startup.py checks it against the command's own).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, NamedTuple

import click


class LazyCommand(NamedTuple):
    """Where a subcommand lives and the help ``--help`` lists it with."""

    target: str  # "package.module:attribute"
    help: str


class LazyGroup(click.Group):
    """A group with subcommands of its own plus ``lazy_commands``, imported when used."""

    def __init__(
        self, *args: Any, lazy_commands: Mapping[str, LazyCommand] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands:
            return self.load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def load(self, name: str) -> click.Command:
        """Import the subcommand ``name`` (a module imports once; later calls are cheap)."""
        target = self.lazy_commands[name].target
        module_name, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is a {type(command).__name__}, not a click command")
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # As click.Group's, but a lazy command is listed from its map entry: a stand-in
        # command with the same help shortens it exactly as the real one would.
        listed: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            lazy = self.lazy_commands.get(name)
            command = click.Command(name, help=lazy.help) if lazy else self.get_command(ctx, name)
            if command is not None and not command.hidden:
                listed.append((name, command))
        if not listed:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in listed)
        with formatter.section("Commands"):
            formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in listed])
