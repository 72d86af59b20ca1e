"""QuickBooks JSON bodies written as XML and validated against Intuit's XSDs.

QuickBooks Online's JSON and XML share element names; XML adds an order (the schema's
sequences) and types. So a body we send is converted element by element, in the order
the schema declares (base types first), and validated with lxml. A key the schema does
not know for that type fails the conversion: the JSON body would be wrong too.

The schema is compiled once per test session (``functools.cache``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

XS = "{http://www.w3.org/2001/XMLSchema}"
NS = "http://schema.intuit.com/finance/v3"
SCHEMA_DIR = Path(
    os.environ.get(
        "QUICKBOOKS_XSD_DIR",
        Path(__file__).resolve().parents[1] / "contracts" / "quickbooks",
    )
)
ROOT_SCHEMA = "IntuitRestServiceDef.xsd"
FILES = ("IntuitBaseTypes.xsd", "IntuitNamesTypes.xsd", "Finance.xsd", ROOT_SCHEMA)


@dataclass
class TypeInfo:
    """One complex type: its child elements in order, attributes, and simple content."""

    elements: list[tuple[str, str | None]] = field(default_factory=list)
    attributes: set[str] = field(default_factory=set)
    simple_content: bool = False


def _local(name: str | None) -> str | None:
    return None if name is None else name.split(":", 1)[-1]


@functools.cache
def schema() -> etree.XMLSchema:
    """Intuit's schema (its root includes Finance.xsd, which includes the base types)."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / ROOT_SCHEMA)))


@functools.cache
def _declarations() -> tuple[dict[str, etree._Element], dict[str, str]]:
    types: dict[str, etree._Element] = {}
    elements: dict[str, str] = {}
    for name in FILES:
        root = etree.parse(str(SCHEMA_DIR / name)).getroot()
        for node in root:
            if node.tag in (XS + "complexType", XS + "simpleType") and node.get("name"):
                types[node.get("name")] = node
            elif node.tag == XS + "element" and node.get("name") and node.get("type"):
                elements[node.get("name")] = _local(node.get("type"))
    return types, elements


def _particles(node: etree._Element, out: list[tuple[str, str | None]]) -> None:
    for child in node:
        if child.tag == XS + "element":
            name = child.get("name") or _local(child.get("ref"))
            kind = _local(child.get("type"))
            if kind is None and child.get("ref"):
                kind = _declarations()[1].get(name)
            out.append((name, kind))
        elif child.tag in (XS + "sequence", XS + "choice", XS + "all"):
            _particles(child, out)


@functools.cache
def type_info(name: str) -> TypeInfo | None:
    """The complex type ``name``, its base types' content first; None for simple types."""
    node = _declarations()[0].get(name)
    if node is None or node.tag != XS + "complexType":
        return None
    info = TypeInfo()
    holder = node
    for content in (XS + "complexContent", XS + "simpleContent"):
        wrapper = node.find(content)
        if wrapper is not None:
            extension = wrapper.find(XS + "extension")
            holder = extension if extension is not None else wrapper
            base = _local(holder.get("base"))
            base_info = type_info(base) if base else None
            if content == XS + "simpleContent":
                info.simple_content = base_info.simple_content if base_info else True
            if base_info is not None:
                info.elements.extend(base_info.elements)
                info.attributes |= base_info.attributes
    _particles(holder, info.elements)
    info.attributes |= {a.get("name") for a in holder.iter(XS + "attribute") if a.get("name")}
    return info


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError(f"float {value!r} in a QuickBooks body")
    return str(value)


def _element(name: str, value: Any, type_name: str | None) -> etree._Element:
    node = etree.Element(f"{{{NS}}}{name}", nsmap={None: NS})
    info = type_info(type_name) if type_name else None
    if info is None:
        node.text = _text(value)
        return node
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} ({type_name}) needs an object, got {value!r}")
    known = {child for child, _ in info.elements}
    for key, item in value.items():
        if key in info.attributes:
            node.set(key, _text(item))
        elif key == "value" and info.simple_content:
            node.text = _text(item)
        elif key not in known:
            raise KeyError(f"{key} is not an element of {name} (type {type_name})")
    for child, child_type in info.elements:
        if child in value and child not in info.attributes:
            items = value[child] if isinstance(value[child], list) else [value[child]]
            for item in items:
                node.append(_element(child, item, child_type))
    return node


def to_xml(name: str, body: Mapping[str, Any]) -> etree._Element:
    """The top-level entity ``name`` (``Invoice``, ``Customer``...) of a JSON body, as XML."""
    return _element(name, body, _declarations()[1][name])


def validate(name: str, body: Mapping[str, Any]) -> etree._Element:
    """Convert and validate; raises AssertionError with lxml's messages when invalid."""
    document = to_xml(name, body)
    checker = schema()
    if not checker.validate(document):
        raise AssertionError(
            f"{name} does not validate against {ROOT_SCHEMA}: {checker.error_log}\n"
            + etree.tostring(document, pretty_print=True).decode()
        )
    return document
