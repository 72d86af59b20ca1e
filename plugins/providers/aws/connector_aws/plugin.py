"""Entry point of the ``billing-connector-aws`` distribution (group ``billing_connector``)."""

from __future__ import annotations

from connector.contracts import ClassRegistry, hookimpl
from connector_aws.cur import AwsCurProvider

PLUGIN_API = "1.0"  # the plugin API this plugin is built for (docs/plugins.md)


@hookimpl
def connector_register_providers(registry: ClassRegistry) -> None:
    """Register the Cost and Usage Report reader as provider ``aws``."""
    registry.add(AwsCurProvider)
