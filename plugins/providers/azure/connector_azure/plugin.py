"""Entry point of the ``billing-connector-azure`` distribution (group ``billing_connector``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector.contracts import hookimpl
from connector_azure.cost import AzureCostProvider

if TYPE_CHECKING:
    from connector.registries import ProviderRegistry


@hookimpl
def connector_register_providers(registry: ProviderRegistry) -> None:
    """Register the cost-details reader as provider ``azure``."""
    registry.add(AzureCostProvider)
