"""Registries of plugin classes, looked up by the name a tenant file uses.

The core's side of the registry Protocols in :mod:`connector.contracts`
(``ProviderRegistry``, ``SinkRegistry``, ``RendererRegistry``): plugins see only
``add``, and annotate with those Protocols, never with these classes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from connector.contracts import PluginError, Provider, Renderer, Sink

T = TypeVar("T")


class DuplicatePluginError(PluginError):
    """Two plugins registered the same name."""


class UnknownPluginError(PluginError):
    """A tenant names an implementation no loaded plugin provides."""


class Registry(Generic[T]):
    """Classes of one kind by name, remembering which plugin added each."""

    kind = "plugin"

    def __init__(self) -> None:
        self._classes: dict[str, type[T]] = {}
        self._owners: dict[str, str] = {}
        self.current_plugin = "<core>"

    def _keys(self, cls: type[T]) -> list[str]:
        return [cls.name]  # type: ignore[attr-defined]

    def add(self, cls: type[T]) -> None:
        """Register ``cls`` under its name(s); a name already taken raises."""
        for key in self._keys(cls):
            if key in self._classes:
                raise DuplicatePluginError(
                    f"{self.kind} {key!r} is registered by both {self._owners[key]!r} "
                    f"and {self.current_plugin!r}; block one with CONNECTOR_BLOCK_PLUGINS"
                )
        for key in self._keys(cls):
            self._classes[key] = cls
            self._owners[key] = self.current_plugin

    def get(self, name: str) -> type[T]:
        """The class registered as ``name``, or an error listing what is available."""
        try:
            return self._classes[name]
        except KeyError:
            known = ", ".join(sorted(self._classes)) or "none"
            raise UnknownPluginError(
                f"no {self.kind} named {name!r} is installed (available: {known})"
            ) from None

    def owner(self, name: str) -> str:
        return self._owners[name]

    def names(self) -> list[str]:
        return sorted(self._classes)

    def __contains__(self, name: object) -> bool:
        return name in self._classes

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


class ProviderRegistry(Registry[Provider]):
    kind = "provider"

    def display_name(self, key: str) -> str:
        """The provider class's optional ``display_name`` ("Amazon Web Services"), or
        ``key`` itself when the class sets none or no plugin of that name is loaded (a
        statement outlives the plugin that produced it)."""
        try:
            cls = self.get(key)
        except UnknownPluginError:
            return key
        name = getattr(cls, "display_name", None)
        return name if isinstance(name, str) and name.strip() else key


class SinkRegistry(Registry[Sink]):
    kind = "ERP sink"


class RendererRegistry(Registry[Renderer]):
    """Renderers are looked up by format (``pdf``, ``csv``, ``detailed-csv`` ...)."""

    kind = "renderer format"

    def _keys(self, cls: type[Renderer]) -> list[str]:
        return list(cls.formats)

    def suffix(self, fmt: str) -> str:
        return self.get(fmt).formats[fmt]
