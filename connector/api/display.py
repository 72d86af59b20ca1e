"""How the web pages name things: providers by their display name, not their key."""

from __future__ import annotations

from connector.registries import ProviderRegistry, UnknownPluginError


def provider_display_name(registry: ProviderRegistry, key: str) -> str:
    """The provider class's optional ``display_name`` ("Amazon Web Services"), or ``key``
    itself when the class sets none or no plugin of that name is loaded (a statement
    outlives the plugin that produced it)."""
    try:
        cls = registry.get(key)
    except UnknownPluginError:
        return key
    name = getattr(cls, "display_name", None)
    return name if isinstance(name, str) and name.strip() else key
