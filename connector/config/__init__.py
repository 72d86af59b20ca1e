"""Configuration: daemon settings and tenant files, validated up front.

Every problem is reported at once as ``file:line: key: message`` (:class:`ConfigError`).
"""

from connector.config.errors import ConfigError, ConfigIssue
from connector.config.loader import load_tenant, load_tenants, tenant_json_schema
from connector.config.settings import DaemonSettings, load_settings
from connector.config.tenant import SecretRef, TenantConfig

__all__ = [
    "ConfigError",
    "ConfigIssue",
    "DaemonSettings",
    "SecretRef",
    "TenantConfig",
    "load_settings",
    "load_tenant",
    "load_tenants",
    "tenant_json_schema",
]
