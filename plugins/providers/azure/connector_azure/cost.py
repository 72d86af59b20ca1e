"""The ``azure`` provider: a folder of EA / MCA cost-details exports -> charge batches.

A cut-off export is refused: a plain CSV not ending with a line break, or whose last row
is short or leaves a quote open; a ``.gz`` without its trailer; and, where the export
wrote a ``manifest.json`` beside its parts (partitioned exports), a part missing, of
another byte count or holding another number of rows than it lists. Without a manifest
(the classic single-file export), a CSV cut exactly at a line end cannot be told from a
complete one. An export holding only its header is "no data rows".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from typing import ClassVar

from connector.contracts import BillingPeriod, ChargeBatch, SourceDataError
from connector.plugin_kit.charge_tables import checked_table
from connector.plugin_kit.file_formats import locate_text
from connector.plugin_kit.files import ExportsProvider, FoundExports
from connector.plugin_kit.scratch import checked_scan
from connector_azure import diagnose
from connector_azure.amortized import amortized_message
from connector_azure.azure_provider import AzureCharges
from connector_azure.columns import Header
from connector_azure.files import EXPORTS, WHAT
from connector_azure.periods import period_of
from connector_azure.settings import AzureSettings


class AzureCostProvider(AzureCharges, ExportsProvider, exports=EXPORTS):
    """Reads Azure EA and MCA cost-details exports (actual cost, ``.csv`` / ``.csv.gz``).

    All matching files are read in one DuckDB pass and aggregated to one canonical charge
    per billing account, subscription, charge type, meter category, meter (SKU), currency,
    publisher and invoice id, with costs summed exactly as DECIMAL(38,12). One batch per
    billing period, by the tenant's Billing Day. A period is ``final`` when every row of
    it carries an invoice id (MCA's ``InvoiceId``, filled once the invoice exists), else
    when the ``final`` setting says so. Amortized-cost exports are refused. Marketplace
    rows (PublisherType "Marketplace") are Azure Marketplace products.
    """

    name: ClassVar[str] = "azure"
    display_name: ClassVar[str] = "Microsoft Azure"
    settings_model: ClassVar[type | None] = AzureSettings
    settings: AzureSettings

    def read(self, found: FoundExports, period: BillingPeriod | None) -> Iterator[ChargeBatch]:
        """Batches by the tenant's Billing Day: ``source`` lists the files holding the
        period's rows; ``source_hash`` is made from the period's rows as read (see
        :meth:`CostAggregate.period_contents`), so the same rows in another order or split
        into other files give the same hash. Raises :class:`SourceDataError` naming file,
        line, column and value for bad data, and for an amortized-cost export.

        Every check runs before the first batch is yielded: bad data yields nothing. A
        batch's charges then stream from DuckDB as the core stores them (see the plugin
        kit's :func:`~connector.plugin_kit.charge_tables.period_table`)."""
        from connector_azure.query import CostAggregate

        # A DuckDB IOException is a cut-off gzip stream, among others; the diagnosis tells.
        find = diagnose.find_bad_value
        headers: Sequence[Header] = found.headers
        where = partial(_where, headers)
        with checked_scan(CostAggregate(headers), found, WHAT, find) as groups:
            for file_no in groups.amortized_files():
                _refuse_amortized(headers[file_no])
            periods = {day: period_of(day, self.settings.billing_day) for day in groups.days()}
            if period is not None:
                periods = {day: p for day, p in periods.items() if p == period}
            groups.assign_periods(periods)
            files = groups.files_by_period()
            contents = groups.period_contents()
            tables = [
                (found_period, checked_table(groups.period_charges(n, found_period), where))
                for n, found_period in enumerate(groups.periods())
            ]
            for found_period, table in tables:
                start = found_period.start
                yield ChargeBatch(
                    period=found_period,
                    source=", ".join(str(headers[i].path) for i in files[start]),
                    source_hash=contents[start].content_hash,
                    charges=table,
                    final=self.settings.final or contents[start].invoiced,
                )
                table.release()


# Charge field -> the columns its text comes from (see query._scan).
TEXT_SOURCES = {
    "billing_account_id": ("billing_account",),
    "sub_account_id": ("subscription",),
    "service_name": ("meter_category", "product"),
    "service_category": ("meter_category", "product"),
    "sku": ("meter_subcategory", "meter_name", "part_number"),
    "publisher": ("publisher_name", "publisher_type"),
    "invoice_id": ("invoice_id",),
    "line_item_type": ("charge_type",),
}


def _where(headers: Sequence[Header], field_name: str, value: str) -> str:
    """File, line and column a charge's text ``value`` came from (re-reads the files)."""
    aliases = TEXT_SOURCES.get(field_name, ())
    for header in headers:
        named = (
            (line, {a: row[p] for a, p in header.positions.items()})
            for line, row in diagnose.rows(header)
        )
        found = locate_text(named, value, aliases)
        if found is not None:
            line, alias = found
            return f"{header.path}: line {line}, column {header.column_name(alias)}"
    columns = " / ".join(headers[0].column_name(a) for a in aliases) or field_name
    return f"{', '.join(str(h.path) for h in headers)}: a row's {columns}"


def _refuse_amortized(header: Header) -> None:
    message = amortized_message(header)
    raise SourceDataError(
        message or f"{header.path}: this looks like an amortized-cost export, not actual cost"
    )
