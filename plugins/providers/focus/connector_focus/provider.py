"""The ``focus`` provider: a folder of FOCUS 1.0-1.2 exports -> charge batches.

A cut-off export is refused: a plain CSV not ending with a line break, or whose last row
is short or leaves a quote open; a ``.gz`` without its trailer; a Parquet file without
its footer; and, where the export has an Azure-style ``manifest.json`` beside it, a file
missing, of another byte count or holding another number of rows than it lists. Without a
manifest, a plain CSV cut exactly at a line end cannot be told from a complete one.
A CSV holding only its header is "no data rows".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from functools import partial
from typing import ClassVar

from connector.contracts import BillingPeriod, ChargeBatch
from connector.plugin_kit.charge_tables import checked_table
from connector.plugin_kit.file_formats import locate_text
from connector.plugin_kit.files import ExportsProvider, FoundExports
from connector.plugin_kit.periods import dates_within
from connector.plugin_kit.scratch import checked_scan, combined_digest, file_digest
from connector_focus import diagnose
from connector_focus.columns import Header
from connector_focus.files import EXPORTS, WHAT
from connector_focus.settings import FocusSettings

ONE_DAY = dt.timedelta(days=1)


class FocusProvider(ExportsProvider, exports=EXPORTS):
    """Reads FOCUS 1.0 to 1.2 cost exports of any cloud (CSV, CSV.gz, Parquet).

    All matching files are read in one DuckDB pass and aggregated to one canonical charge
    per billing account, sub-account, ChargeCategory, ChargeClass, ChargeFrequency,
    service, SKU, currency, publisher and invoice id, summed exactly. One batch per FOCUS
    billing period (BillingPeriodStart .. BillingPeriodEnd); the period's invoice total
    is the sum of its BilledCost.
    """

    name: ClassVar[str] = "focus"
    display_name: ClassVar[str] = "FOCUS export"
    settings_model: ClassVar[type | None] = FocusSettings
    settings: FocusSettings

    def read(self, found: FoundExports, wanted: BillingPeriod | None) -> Iterator[ChargeBatch]:
        """Batches by FOCUS billing period: ``source`` lists the files holding the
        period's rows and ``source_hash`` is a sha256 over those files' own sha256s, in
        path order. Azure's FOCUS exports carry a manifest.json with row counts, which
        are checked.

        Every check runs before the first batch is yielded: bad data yields nothing. A
        batch's charges then stream from DuckDB as the core stores them (see the plugin
        kit's :func:`~connector.plugin_kit.charge_tables.period_table`)."""
        from connector_focus.query import FocusAggregate

        find = diagnose.find_bad_value
        headers: Sequence[Header] = found.headers
        where = partial(_where, headers)
        with checked_scan(FocusAggregate(headers), found, WHAT, find) as groups:
            read = []
            for start, end, invoiced, file_nos in groups.periods():
                billing_period = BillingPeriod(start, end)
                if wanted is None or billing_period == wanted:
                    charges = groups.period_charges(
                        len(read), billing_period, partial(_dates, billing_period)
                    )
                    read.append((billing_period, invoiced, file_nos, checked_table(charges, where)))
            digests: dict[int, str] = {}
            for _, _, file_nos, _ in read:
                for n in file_nos:
                    digests.setdefault(n, file_digest(headers[n].path))
            for billing_period, invoiced, file_nos, table in read:
                yield ChargeBatch(
                    period=billing_period,
                    source=", ".join(str(headers[n].path) for n in file_nos),
                    source_hash=combined_digest(digests[n] for n in file_nos),
                    charges=table,
                    final=self.settings.final or bool(invoiced),
                )
                table.release()


def _dates(period: BillingPeriod, first_day: dt.date, last_day: dt.date) -> tuple:
    """A charge's ``(start, end)`` from its first ChargePeriodStart and last
    ChargePeriodEnd, within its batch's ``period``."""
    # ChargePeriodEnd is exclusive; a charge within one day still spans that day.
    end = last_day if last_day > first_day else first_day + ONE_DAY
    return dates_within(period, first_day, end)


# Charge field -> the columns its text comes from (see query._scan).
TEXT_SOURCES = {
    "billing_account_id": ("billing_account",),
    "sub_account_id": ("sub_account",),
    "service_name": ("service_name",),
    "service_category": ("service_category", "service_name"),
    "sku": ("sku_id", "sku_price_id"),
    "publisher": ("service_provider_name", "publisher_name", "provider_name",
                  "invoice_issuer_name"),
    "invoice_id": ("invoice_id",),
}  # fmt: skip


def _where(headers: Sequence[Header], field_name: str, value: str) -> str:
    """File, line and column a charge's text ``value`` came from (re-reads the files)."""
    aliases = TEXT_SOURCES.get(field_name, ())
    for header in headers:
        found = locate_text(diagnose.rows(header), value, aliases)
        if found is not None:
            line, alias = found
            return f"{header.path}: {line}, column {header.column_name(alias)}"
    return f"{', '.join(str(h.path) for h in headers)}: a row's {field_name}"
