"""What every pipeline step works with: settings, database, plugins, tenants."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from connector.config.loader import load_tenants
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

    def tenant(self, name: str) -> TenantConfig:
        try:
            return self.tenants[name]
        except KeyError:
            known = ", ".join(sorted(self.tenants)) or "none"
            raise TenantNotFoundError(
                f"no tenant {name!r} in {self.settings.tenants_dir} (tenants: {known})"
            ) from None

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


def open_runtime(settings: DaemonSettings, host: PluginHost | None = None) -> Runtime:
    """Load plugins and every tenant (all errors at once), connect and migrate the database."""
    host = host or load_plugins()
    tenants = load_tenants(Path(settings.tenants_dir), plugin_settings_model(host))
    db = Database(settings.database_url)
    return Runtime(settings, db, host, {t.tenant: t for t in tenants})
