"""Every hook Billing Connector calls, typed and documented where declared.

A plugin is a module (or object) with functions marked ``@hookimpl`` whose names match
the specs below, published under the entry-point group ``billing_connector``. Every
type a hook names is in :mod:`connector.contracts`, so a plugin's annotations need nothing
from the rest of the core.

Tenants pick exactly one implementation of each kind by name, so plugins do not answer
"is this mine?" hooks: they add classes to registries, and the core looks them up.
"""

from __future__ import annotations

import pluggy

from connector.contracts import (
    PROJECT_NAME,
    Event,
    ProviderRegistry,
    RendererRegistry,
    SinkRegistry,
)

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


# ---------------------------------------------------------------------------
# Registration: called once when the plugin manager is built
# ---------------------------------------------------------------------------


@hookspec
def connector_register_providers(registry: ProviderRegistry) -> None:
    """Add provider classes (see :class:`connector.contracts.Provider`) to the registry.

    :param registry: call ``registry.add(cls)``; ``cls.name`` is what tenant files name
        under ``providers:``. A name registered twice raises ``DuplicatePluginError``
        naming both plugins.
    """


@hookspec
def connector_register_sinks(registry: SinkRegistry) -> None:
    """Add ERP sink classes (see :class:`connector.contracts.Sink`) to the registry.

    :param registry: call ``registry.add(cls)``; ``cls.name`` is what tenant files name
        under ``erp.sink``. A name registered twice raises ``DuplicatePluginError``.
    """


@hookspec
def connector_register_renderers(registry: RendererRegistry) -> None:
    """Add renderer classes (see :class:`connector.contracts.Renderer`) to the registry.

    :param registry: call ``registry.add(cls)``; every format in ``cls.formats`` becomes
        available to ``statements export --format``. A format offered twice raises
        ``DuplicatePluginError``.
    """


# ---------------------------------------------------------------------------
# Notifications: failures are logged and never abort a run
# ---------------------------------------------------------------------------


@hookspec
def connector_event(event: Event) -> None:
    """Be told that something happened (``event.name``: ``statement-approved`` ...).

    :param event: a small frozen dataclass; ``event.properties()`` gives its fields.
    Every implementation is called; one that raises is logged with its plugin's name
    and the others still run. Return values are ignored.
    """
