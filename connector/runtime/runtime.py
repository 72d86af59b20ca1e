"""What every pipeline step works with: settings, database, plugins, tenants.

Tenant files are loaded each on its own: a command for one tenant runs whatever
state another tenant's file is in, and asking for a tenant whose file has problems
reports those problems (a configuration error), not "no such tenant".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from connector.config.errors import ConfigError
from connector.config.loader import SkippedTenantFile, load_tenant_files
from connector.config.settings import DaemonSettings
from connector.config.tenant import TenantConfig
from connector.contracts import Event
from connector.plugins import PluginHost, load_plugins
from connector.registries import UnknownPluginError
from connector.storage.db import Database


class TenantNotFoundError(LookupError):
    pass


@dataclass(slots=True)
class Runtime:
    settings: DaemonSettings
    db: Database
    plugins: PluginHost
    tenants: dict[str, TenantConfig]
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    #: Tenant files left out for their problems, by path.
    skipped: dict[Path, SkippedTenantFile] = field(default_factory=dict)

    def tenant(self, name: str) -> TenantConfig:
        """The tenant called ``name``.

        :raises ConfigError: its file was skipped, with every problem of that file.
        :raises TenantNotFoundError: no file names it.
        """
        try:
            return self.tenants[name]
        except KeyError:
            pass
        for file in self.skipped.values():
            if file.claims(name):
                raise ConfigError(file.issues)
        known = ", ".join(sorted(self.tenants)) or "none"
        skipped = ", ".join(str(path) for path in sorted(self.skipped))
        raise TenantNotFoundError(
            f"no tenant {name!r} in {self.settings.tenants_dir} (tenants: {known}"
            + (f"; skipped for their problems: {skipped}" if skipped else "")
            + ")"
        )

    @property
    def output_dir(self) -> Path:
        return Path(self.settings.output_dir)

    def emit(self, event: Event) -> None:
        self.plugins.emit(event)


def plugin_settings_model(host: PluginHost):  # type: ignore[no-untyped-def]
    """The lookup the tenant loader uses to validate plugin settings with the rest."""

    def lookup(kind: str, name: str) -> type | None:
        registry = host.providers if kind == "provider" else host.sinks
        try:
            return getattr(registry.get(name), "settings_model", None)
        except UnknownPluginError:
            return None

    return lookup


def open_runtime(
    settings: DaemonSettings, host: PluginHost | None = None, *, migrate: bool = True
) -> Runtime:
    """Load plugins and every good tenant file, connect and (``migrate``) migrate the
    database.

    Without ``migrate`` the schema must already be this version's (the CLI's commands
    other than ``db upgrade``, ``run``, ``serve`` and ``demo``): a database not
    migrated yet is refused, and left as it was.

    A tenant file with problems is left out (:attr:`Runtime.skipped`); asking for its
    tenant raises :class:`ConfigError` with all of them.

    :raises ConfigError: the tenants directory does not exist.
    :raises SchemaError: not ``migrate``, and the schema is not this version's.
    """
    host = host or load_plugins()
    files = load_tenant_files(Path(settings.tenants_dir), plugin_settings_model(host))
    timeouts = settings.database_timeouts.timeouts()
    pool = settings.database_pool
    if migrate:
        db = Database(settings.database_url, True, timeouts, pool.size, pool.overflow)
    else:
        db = Database.at_latest(settings.database_url, timeouts, pool.size, pool.overflow)
    return Runtime(settings, db, host, files.tenants, skipped=files.skipped)
