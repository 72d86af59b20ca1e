"""The import formats the sink can write, by the name a tenant's ``template`` setting uses.

A template turns one statement into rows under its header; the sink handles files,
atomicity and exactly-once. Another system's format is a new module here, one more
entry in ``TEMPLATES`` and one more value of the ``template`` setting.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

from connector.contracts import StatementDocument
from connector_erp_csv.quickbooks import QuickBooksTemplate
from connector_erp_csv.settings import InvoiceMapping
from connector_erp_csv.xero import XeroTemplate


class InvoiceTemplate(Protocol):
    """One accounting system's invoice import file."""

    name: ClassVar[str]
    header: ClassVar[tuple[str, ...]]

    def rows(self, document: StatementDocument, mapping: InvoiceMapping) -> list[tuple[str, ...]]:
        """The rows for ``document``; raises PluginError when it cannot be represented.

        Rows depend only on the statement revision and the settings, so a refusal is
        final for that revision: the sink reports it as permanent.
        """
        ...


TEMPLATES: dict[str, InvoiceTemplate] = {
    template.name: template for template in (XeroTemplate(), QuickBooksTemplate())
}
