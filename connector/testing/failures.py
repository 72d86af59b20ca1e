"""How the kit reports a plugin that breaks the contract: one message saying why.

Every check raises :class:`ConformanceError` (an ``AssertionError``, so pytest reports it
as a test failure, not an error) whose message names the plugin, what was checked, what
was found and what would conform. The helpers here describe values for those messages.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from decimal import Decimal
from typing import Any


class ConformanceError(AssertionError):
    """A plugin does not do what the contract in :mod:`connector.contracts` says."""


def require(condition: object, message: str) -> None:
    """Raise :class:`ConformanceError` with ``message`` unless ``condition`` holds."""
    __tracebackhide__ = True  # pytest shows the message, not the kit's frames
    if not condition:
        raise ConformanceError(message)


def plugin_label(kind: str, cls: type) -> str:
    """``renderer 'pdf'`` (or the class name when the plugin has no usable ``name``)."""
    name = getattr(cls, "name", None)
    return f"{kind} {name!r}" if isinstance(name, str) and name else f"{kind} {cls.__name__}"


def first_difference(first: bytes, second: bytes) -> str:
    """Where two outputs part: the byte offset and a few bytes of each from there."""
    offset = next(
        (i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b),
        min(len(first), len(second)),
    )
    start = max(offset - 8, 0)
    return (
        f"outputs differ at byte {offset} (lengths {len(first)} and {len(second)}): "
        f"{first[start : offset + 24]!r} vs {second[start : offset + 24]!r}"
    )


def floats_in(value: Any, path: str) -> Iterator[tuple[str, float]]:
    """Every float inside ``value`` (dataclasses, mappings, sequences), by dotted path.

    Money travels as :class:`~decimal.Decimal`; a float anywhere in a plugin's output has
    already lost cents (``0.1 + 0.2 != 0.3``).
    """
    if isinstance(value, float):
        yield path, value
    elif isinstance(value, (str, bytes, Decimal, int)) or value is None:
        return
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            yield from floats_in(getattr(value, item.name), f"{path}.{item.name}")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from floats_in(item, f"{path}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from floats_in(item, f"{path}[{index}]")


#: What each kind of plugin has (attribute -> what it should be), as a failure says it.
PROTOCOLS = {
    "provider": {
        "name": "the name tenant files use, e.g. 'aws'",
        "settings_model": "a pydantic model of the tenant's settings, or None",
        "fetch": "fetch(period=None) yielding ChargeBatch values",
    },
    "sink": {
        "name": "the name tenant files use under erp.sink",
        "settings_model": "a pydantic model of the tenant's erp.settings, or None",
        "push": "push(documents) returning one PushResult per document",
    },
    "renderer": {
        "name": "the renderer's name, e.g. 'pdf'",
        "formats": "a mapping of format name -> file suffix, e.g. {'pdf': '.pdf'}",
        "render": "render(document, fmt) returning bytes",
    },
}


def require_protocol(kind: str, cls: type) -> str:
    """``cls``'s label, once it has every attribute ``PROTOCOLS[kind]`` names; otherwise a
    ConformanceError naming the protocol and each attribute missing."""
    __tracebackhide__ = True
    label = plugin_label(kind, cls)
    gaps = [f"{name} ({what})" for name, what in PROTOCOLS[kind].items() if not hasattr(cls, name)]
    protocol = kind.capitalize()
    require(
        not gaps, f"{label} does not satisfy the {protocol} protocol: missing {', '.join(gaps)}"
    )
    return label


def require_plain_name(label: str, cls: type) -> None:
    """A provider's or sink's ``name``: what tenant files name it by."""
    __tracebackhide__ = True
    name = cls.name  # type: ignore[attr-defined]
    require(
        isinstance(name, str) and name.strip() == name and name and " " not in name,
        f"{label}: name must be a non-empty string without spaces (tenant files name it), "
        f"not {name!r}",
    )


def name_suite(suite: type, plugin_cls: type) -> type:
    """Give a generated test class a name that says which plugin it checks."""
    suite.__name__ = suite.__qualname__ = f"{suite.__name__}[{plugin_cls.__name__}]"
    return suite
