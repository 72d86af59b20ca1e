"""The ``ubl`` renderer and its registration hook (entry point ``ubl-renderer``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from connector.contracts import ClassRegistry, PluginError, StatementDocument, hookimpl

PLUGIN_API = "1.0"  # the plugin API this plugin is built for (docs/plugins.md)


class UblRenderer:
    """Approved statements as Peppol BIS Billing 3.0 UBL invoices and credit notes.

    Drafts are refused: a draft has no invoice number, and a UBL invoice is a legal
    document an accounting system books on receipt.
    """

    name: ClassVar[str] = "ubl"
    formats: ClassVar[Mapping[str, str]] = {"ubl": ".xml"}

    def render(self, document: StatementDocument, fmt: str) -> bytes:
        """The statement as ``fmt`` (only ``ubl``): byte-identical for the same document."""
        from connector_render_ubl.document import render_ubl

        if fmt != "ubl":
            raise PluginError(f"the ubl renderer has no format {fmt!r} (it offers: ubl)")
        return render_ubl(document)


@hookimpl
def connector_register_renderers(registry: ClassRegistry) -> None:
    """Offer the ``ubl`` format."""
    registry.add(UblRenderer)
