"""Entry point of the ``billing-connector-azure`` distribution (group ``billing_connector``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector.contracts import hookimpl
from connector_azure.cost import AzureCostProvider
from connector_azure.csp import AzureCspProvider

if TYPE_CHECKING:
    from connector.registries import ProviderRegistry


@hookimpl
def connector_register_providers(registry: ProviderRegistry) -> None:
    """Register the EA / MCA cost-details reader as ``azure`` and the Partner Center
    reconciliation reader as ``azure-csp``."""
    registry.add(AzureCostProvider)
    registry.add(AzureCspProvider)
