"""Registration of the faulty plugins (entry point ``faulty``); never installed."""

from __future__ import annotations

from connector.contracts import ClassRegistry, hookimpl
from connector_faulty.provider import FloatProvider
from connector_faulty.renderer import FaultyRenderer
from connector_faulty.sink import DuplicatingSink

PLUGIN_API = "1.0"  # the plugin API this plugin is built for (docs/plugins.md)


@hookimpl
def connector_register_providers(registry: ClassRegistry) -> None:
    registry.add(FloatProvider)


@hookimpl
def connector_register_sinks(registry: ClassRegistry) -> None:
    registry.add(DuplicatingSink)


@hookimpl
def connector_register_renderers(registry: ClassRegistry) -> None:
    registry.add(FaultyRenderer)
