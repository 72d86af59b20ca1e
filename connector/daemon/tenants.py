"""Tenant files for the daemon: each file on its own, so one broken file stops no one.

``connector check-config`` refuses the whole directory when any file is wrong, which is
right for an operator at a terminal; a running daemon instead serves every tenant
whose file is good and reports the ones that are not (each problem in the log, the
files on ``/readyz`` and in ``connector_tenant_file_problems``), retrying them when it
reloads the directory. Whatever a file contains, loading it never raises: only a
missing tenants directory stops the daemon (exit code 1, a configuration error).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from connector.config.loader import SkippedTenantFile, load_tenant_files
from connector.config.tenant import TenantConfig
from connector.daemon.logs import log_context
from connector.plugins import PluginHost
from connector.runtime.runtime import plugin_settings_model

log = logging.getLogger(__name__)


@dataclass(slots=True)
class LoadedTenants:
    tenants: dict[str, TenantConfig] = field(default_factory=dict)
    skipped: dict[Path, SkippedTenantFile] = field(default_factory=dict)


def load_tenants_isolated(directory: Path, host: PluginHost) -> LoadedTenants:
    """Every good tenant file in ``directory``; a bad one is logged and left out.

    :raises ConfigError: the directory itself does not exist (nothing could run).
    """
    files = load_tenant_files(directory, plugin_settings_model(host))
    for path, skipped in files.skipped.items():
        problems = "\n".join(str(issue) for issue in skipped.issues)
        with log_context(tenant=skipped.tenant):
            log.error("tenant file %s skipped, %d problem(s):\n%s", path, len(skipped.issues),
                      problems)  # fmt: skip
    return LoadedTenants(files.tenants, files.skipped)
