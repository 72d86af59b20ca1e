"""Entry point of the ``billing-connector-focus`` distribution (group ``billing_connector``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector.contracts import hookimpl
from connector_focus.provider import FocusProvider

if TYPE_CHECKING:
    from connector.registries import ProviderRegistry


@hookimpl
def connector_register_providers(registry: ProviderRegistry) -> None:
    """Register the FOCUS export reader as provider ``focus``."""
    registry.add(FocusProvider)
