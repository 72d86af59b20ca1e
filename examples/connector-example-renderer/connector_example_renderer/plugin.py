"""The ``markdown`` renderer and its registration hook (entry point ``example-markdown``).

Imports only the public plugin surface, :mod:`connector.contracts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import ClassVar

from connector.contracts import ClassRegistry, PluginError, StatementDocument, hookimpl

PLUGIN_API = "1.0"  # the plugin API this plugin is built for (docs/plugins.md)


def amount(value: Decimal) -> str:
    """An amount with thousands separators and its own decimal places; never ``-0.00``."""
    if value.is_zero():
        value = abs(value)
    exponent = value.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return f"{value:,.{places}f}"


def cell(text: str | None) -> str:
    """Text safe inside a Markdown table cell."""
    return (text or "").replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def markdown(document: StatementDocument) -> str:
    """The statement as Markdown: only the document's own values, so always the same text."""
    draft = document.status.strip().lower() == "draft"
    title = "DRAFT statement" if draft else f"Statement {document.number}"
    last_day = document.period.end - dt.timedelta(days=1)  # the period is half-open
    out = [
        f"# {cell(title)}",
        "",
        f"**From:** {cell(document.reseller.name)}  ",
        f"**To:** {cell(document.customer.name)} (customer {cell(document.customer_id)})  ",
        f"**Period:** {document.period.start.isoformat()} to {last_day.isoformat()}  ",
        f"**Issued:** {document.issue_date.isoformat()}, **due:** {document.due_date.isoformat()}",
        "",
        f"| # | Description | Amount ({document.currency}) |",
        "|---|---|---:|",
    ]
    for line in sorted(document.lines, key=lambda line: line.position):
        out.append(f"| {line.position} | {cell(line.description)} | {amount(line.amount)} |")
    out += [
        "",
        f"Subtotal: {amount(document.subtotal)} {document.currency}  ",
        f"Tax: {amount(document.tax)} {document.currency}  ",
        f"**Total: {amount(document.total)} {document.currency}**",
    ]
    if document.notes:
        out += ["", cell(document.notes)]
    return "\n".join(out) + "\n"


class MarkdownRenderer:
    """Statements as a Markdown table, e.g. for a wiki or an e-mail body."""

    name: ClassVar[str] = "markdown"
    formats: ClassVar[Mapping[str, str]] = {"markdown": ".md"}

    def render(self, document: StatementDocument, fmt: str) -> bytes:
        """The statement as ``fmt`` (only ``markdown``), UTF-8."""
        if fmt != "markdown":
            raise PluginError(f"the markdown renderer has no format {fmt!r} (it offers: markdown)")
        return markdown(document).encode("utf-8")


@hookimpl
def connector_register_renderers(registry: ClassRegistry) -> None:
    """Offer the ``markdown`` format."""
    registry.add(MarkdownRenderer)
