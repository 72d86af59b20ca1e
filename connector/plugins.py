"""Building the plugin manager: entry points loaded one by one, guarded, blockable.

``CONNECTOR_BLOCK_PLUGINS``  comma-separated plugin (entry-point) or distribution names
                            not to load, like pytest's ``-p no:NAME``.
``CONNECTOR_STRICT_PLUGINS`` set to 1 to fail on the first plugin that does not load
                            (CI), instead of reporting it and carrying on.
``CONNECTOR_TRACE_PLUGINS``  set to 1 to log every hook call (like ``PYTEST_DEBUG``).

Each plugin's entry-point module declares the plugin API it was built for,
``PLUGIN_API = "MAJOR.MINOR"``; one this core cannot serve (another major, or a newer
minor than :data:`connector.contracts.PLUGIN_API_VERSION`) is refused, named with its
distribution and both versions, and the others load. A plugin that declares none was
written before the declaration existed, against API 1.0: it loads as 1.0, with a warning.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points

import pluggy

from connector import hookspecs
from connector.contracts import (
    ENTRY_POINT_GROUP,
    PLUGIN_API_VERSION,
    PROJECT_NAME,
    Event,
    PluginError,
)
from connector.registries import ProviderRegistry, Registry, RendererRegistry, SinkRegistry

log = logging.getLogger(__name__)


#: The entry-point module's attribute naming the plugin API a plugin was built for.
API_ATTRIBUTE = "PLUGIN_API"
#: What a plugin that declares no API is taken to be built for.
UNDECLARED_API = "1.0"
_API = re.compile(r"(\d+)\.(\d+)")


class PluginLoadError(PluginError):
    """A plugin failed to load while strict mode was on."""


@dataclass(slots=True)
class PluginRecord:
    """What ``connector plugins`` shows for one entry point."""

    name: str
    distribution: str
    version: str
    status: str  # loaded | blocked | refused (plugin API) | failed
    hooks: list[str] = field(default_factory=list)
    error: str | None = None


class ConnectorPluginManager(pluggy.PluginManager):
    """A pluggy manager that remembers how each entry point fared."""

    def __init__(self) -> None:
        super().__init__(PROJECT_NAME)
        self.records: list[PluginRecord] = []


def _env_list(name: str) -> set[str]:
    return {item.strip() for item in os.environ.get(name, "").split(",") if item.strip()}


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _distribution(ep: EntryPoint) -> tuple[str, str]:
    dist = ep.dist
    if dist is None:
        return "<unknown>", ""
    return dist.metadata["Name"], dist.version


def api_refusal(plugin: object, name: str, dist_name: str, version: str) -> str | None:
    """Why this core cannot load ``plugin`` (its ``PLUGIN_API`` against
    :data:`PLUGIN_API_VERSION`) and what to do, or ``None`` when it can."""
    declared = getattr(plugin, API_ATTRIBUTE, None)
    if declared is None:
        log.warning(
            "plugin %s from %s %s declares no %s; loaded as built for plugin API %s (add "
            '%s = "%s" to its module %s)',
            name, dist_name, version, API_ATTRIBUTE, UNDECLARED_API, API_ATTRIBUTE,
            PLUGIN_API_VERSION, getattr(plugin, "__name__", "?"),
        )  # fmt: skip
        declared = UNDECLARED_API
    where = f"plugin {name!r} from distribution {dist_name!r} {version}".rstrip()
    theirs = _API.fullmatch(declared) if isinstance(declared, str) else None
    if theirs is None:
        return (
            f"{where} declares {API_ATTRIBUTE} = {declared!r}; it must be a string "
            f'"MAJOR.MINOR" such as "{PLUGIN_API_VERSION}", the plugin API it was built for'
        )
    major, minor = int(theirs[1]), int(theirs[2])
    core_major, core_minor = map(int, PLUGIN_API_VERSION.split("."))
    if major == core_major and minor <= core_minor:
        return None
    built = f"{where} is built for plugin API {declared}, but this Billing Connector offers "
    if (major, minor) > (core_major, core_minor):
        advice = (
            f"upgrade billing-connector to one offering plugin API {declared}, or install "
            f"a version of {dist_name} built for {PLUGIN_API_VERSION}"
        )
    else:
        advice = f"install a version of {dist_name} built for plugin API {core_major}.x"
    return (
        f"{built}plugin API {PLUGIN_API_VERSION}: {advice}; or block it with "
        f"CONNECTOR_BLOCK_PLUGINS={name}"
    )


def get_plugin_manager(
    blocked: set[str] | None = None, strict: bool | None = None
) -> ConnectorPluginManager:
    """Add the hook specs, load every ``billing_connector`` entry point in its own try.

    A plugin that fails to import or register, or is built for a plugin API this core
    cannot serve, is recorded with its error and skipped, so one broken third-party
    package cannot stop every tenant, unless ``strict``.
    """
    blocked = _env_list("CONNECTOR_BLOCK_PLUGINS") if blocked is None else blocked
    strict = _env_flag("CONNECTOR_STRICT_PLUGINS") if strict is None else strict
    pm = ConnectorPluginManager()
    pm.add_hookspecs(hookspecs)
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist_name, version = _distribution(ep)
        record = PluginRecord(ep.name, dist_name, version, "loaded")
        pm.records.append(record)
        if ep.name in blocked or dist_name in blocked:
            record.status = "blocked"
            pm.set_blocked(ep.name)
            continue
        try:
            plugin = ep.load()
            refusal = api_refusal(plugin, ep.name, dist_name, version)
            if refusal is None:
                pm.register(plugin, name=ep.name)
        except Exception as exc:
            record.status, record.error = "failed", f"{type(exc).__name__}: {exc}"
            log.error("plugin %s from %s failed to load: %s", ep.name, dist_name, record.error)
            if strict:
                raise PluginLoadError(
                    f"plugin {ep.name!r} from distribution {dist_name!r} failed to load: "
                    f"{record.error}"
                ) from exc
            continue
        if refusal is not None:
            record.status, record.error = "refused", refusal
            log.error("%s", refusal)
            if strict:
                raise PluginLoadError(refusal)
            continue
        record.hooks = sorted(h.name for h in pm.get_hookcallers(pm.get_plugin(ep.name)) or ())
    pm.check_pending()
    if _env_flag("CONNECTOR_TRACE_PLUGINS"):
        pm.trace.root.setwriter(lambda msg: log.info("hook trace: %s", msg.rstrip()))
        pm.enable_tracing()
    return pm


@dataclass(slots=True)
class PluginHost:
    """The plugin manager with its registries filled: what the pipeline uses."""

    pm: ConnectorPluginManager
    providers: ProviderRegistry
    sinks: SinkRegistry
    renderers: RendererRegistry

    def emit(self, event: Event) -> None:
        """Tell every ``connector_event`` implementation; a failing one is only logged."""
        for impl in self.pm.hook.connector_event.get_hookimpls():
            try:
                impl.function(event=event)
            except Exception:
                log.exception("plugin %s failed handling event %s", impl.plugin_name, event.name)


def _fill(pm: ConnectorPluginManager, hook_name: str, registry: Registry) -> None:
    # Called implementation by implementation, so an error names the plugin and a
    # broken registration does not stop the other plugins registering.
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        registry.current_plugin = impl.plugin_name
        try:
            impl.function(registry=registry)
        except Exception as exc:
            record = next((r for r in pm.records if r.name == impl.plugin_name), None)
            if record is not None:
                record.status, record.error = "failed", f"{type(exc).__name__}: {exc}"
            log.error("plugin %s failed in %s: %s", impl.plugin_name, hook_name, exc)
            if _env_flag("CONNECTOR_STRICT_PLUGINS"):
                raise
    registry.current_plugin = "<core>"


def load_plugins(pm: ConnectorPluginManager | None = None) -> PluginHost:
    """Build the manager (unless given) and fill the provider, sink and renderer registries."""
    pm = pm or get_plugin_manager()
    host = PluginHost(pm, ProviderRegistry(), SinkRegistry(), RendererRegistry())
    _fill(pm, "connector_register_providers", host.providers)
    _fill(pm, "connector_register_sinks", host.sinks)
    _fill(pm, "connector_register_renderers", host.renderers)
    return host
