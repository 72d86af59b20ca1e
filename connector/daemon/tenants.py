"""Tenant files for the daemon: each file on its own, so one broken file stops no one.

``connector check-config`` refuses the whole directory when any file is wrong, which is
right for an operator at a terminal; a running daemon instead serves every tenant
whose file is good and logs (with every problem) the ones that are not, retrying them
when it reloads the directory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from connector.config.errors import ConfigError, ConfigIssue
from connector.config.loader import load_tenant
from connector.config.tenant import TenantConfig
from connector.pipeline.runtime import plugin_settings_model
from connector.plugins import PluginHost

log = logging.getLogger(__name__)


@dataclass(slots=True)
class LoadedTenants:
    tenants: dict[str, TenantConfig] = field(default_factory=dict)
    broken: dict[Path, str] = field(default_factory=dict)  # file -> problems


def load_tenants_isolated(directory: Path, host: PluginHost) -> LoadedTenants:
    """Every good tenant file in ``directory``; a bad one is logged and left out.

    :raises ConfigError: the directory itself does not exist (nothing could run).
    """
    if not directory.is_dir():
        raise ConfigError([ConfigIssue(str(directory), None, "", "tenants directory not found")])
    lookup = plugin_settings_model(host)
    loaded = LoadedTenants()
    owners: dict[str, Path] = {}
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        try:
            tenant = load_tenant(path, lookup)
        except ConfigError as exc:
            loaded.broken[path] = str(exc)
            log.error("tenant file %s skipped, %d problem(s):\n%s", path, len(exc.issues), exc)
            continue
        if tenant.tenant in owners:
            other = owners[tenant.tenant]
            loaded.broken[path] = f"tenant {tenant.tenant!r} is also defined in {other}"
            log.error("tenant file %s skipped: %s", path, loaded.broken[path])
            continue
        owners[tenant.tenant] = path
        loaded.tenants[tenant.tenant] = tenant
    return loaded
