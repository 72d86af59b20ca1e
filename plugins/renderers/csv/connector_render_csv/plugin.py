"""The ``csv`` renderer and its registration hook (entry point ``csv-renderer``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from connector.contracts import ClassRegistry, PluginError, StatementDocument, hookimpl
from connector_render_csv.tables import (
    DETAIL_HEADER,
    STATEMENT_HEADER,
    detail_rows,
    statement_rows,
    to_csv_bytes,
)

PLUGIN_API = "1.0"  # the plugin API this plugin is built for (docs/plugins.md)


class CsvRenderer:
    """Customer-facing CSV (``csv``) and the full-precision detailed CSV (``detailed-csv``)."""

    name: ClassVar[str] = "csv"
    formats: ClassVar[Mapping[str, str]] = {"csv": ".csv", "detailed-csv": ".detailed.csv"}

    def render(self, document: StatementDocument, fmt: str) -> bytes:
        """The statement as ``fmt``: byte-identical for the same document."""
        if fmt == "csv":
            return to_csv_bytes(STATEMENT_HEADER, statement_rows(document))
        if fmt == "detailed-csv":
            return to_csv_bytes(DETAIL_HEADER, detail_rows(document))
        raise PluginError(
            f"the csv renderer has no format {fmt!r} (it offers: {', '.join(self.formats)})"
        )


@hookimpl
def connector_register_renderers(registry: ClassRegistry) -> None:
    """Offer the ``csv`` and ``detailed-csv`` formats."""
    registry.add(CsvRenderer)
