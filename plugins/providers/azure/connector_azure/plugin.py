"""Entry point of the ``billing-connector-azure`` distribution (group ``billing_connector``)."""

from __future__ import annotations

from connector.contracts import ClassRegistry, hookimpl
from connector_azure.cost import AzureCostProvider
from connector_azure.csp import AzureCspProvider

PLUGIN_API = "1.0"  # the plugin API this plugin is built for (docs/plugins.md)


@hookimpl
def connector_register_providers(registry: ClassRegistry) -> None:
    """Register the EA / MCA cost-details reader as ``azure`` and the Partner Center
    reconciliation reader as ``azure-csp``."""
    registry.add(AzureCostProvider)
    registry.add(AzureCspProvider)
