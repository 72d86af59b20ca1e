"""Entry point of the ``billing-connector-focus`` distribution (group ``billing_connector``)."""

from __future__ import annotations

from connector.contracts import ClassRegistry, hookimpl
from connector_focus.provider import FocusProvider

PLUGIN_API = "1.0"  # the plugin API this plugin is built for (docs/plugins.md)


@hookimpl
def connector_register_providers(registry: ClassRegistry) -> None:
    """Register the FOCUS export reader as provider ``focus``."""
    registry.add(FocusProvider)
