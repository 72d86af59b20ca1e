"""Entry point of the ``billing-connector-softlayer`` distribution (group ``billing_connector``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector.contracts import hookimpl
from connector_softlayer.provider import SoftLayerProvider

if TYPE_CHECKING:
    from connector.registries import ProviderRegistry


@hookimpl
def connector_register_providers(registry: ProviderRegistry) -> None:
    """Register the invoice reader as provider ``softlayer``."""
    registry.add(SoftLayerProvider)
