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
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

from connector.contracts import (
    BillingPeriod,
    CanonicalCharge,
    ChargeBatch,
    ChargeCategory,
    checked_charges,
)
from connector.plugin_kit.file_formats import (
    ManifestBlob,
    check_azure_manifests,
    locate_text,
)
from connector.plugin_kit.files import find_files
from connector.plugin_kit.scratch import combined_digest, explain_by, file_digest, reading
from connector.plugin_kit.settings import FolderProvider
from connector_focus import diagnose
from connector_focus.columns import Header
from connector_focus.files import NOT_A_FOLDER, SUFFIXES, WHAT, read_header
from connector_focus.settings import FocusSettings

ONE_DAY = dt.timedelta(days=1)


class FocusProvider(FolderProvider):
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

    def fetch(self, period: BillingPeriod | None = None) -> Iterator[ChargeBatch]:
        """Yield one batch per billing period found (only ``period`` when given).

        Every file is read and checked before the first batch is returned. ``source``
        lists the files holding the period's rows and ``source_hash`` is a sha256 over
        those files' own sha256s, in path order.
        """
        files = find_files(self.folder, self.settings.pattern, SUFFIXES, NOT_A_FOLDER)
        if files:
            listed = check_azure_manifests(files, WHAT)
            headers = [read_header(path) for path in files]
            yield from self._read(headers, period, listed)

    def _read(
        self,
        headers: Sequence[Header],
        wanted: BillingPeriod | None,
        listed: Mapping[Path, ManifestBlob],
    ) -> list[ChargeBatch]:
        from connector_focus.query import FocusAggregate

        # A DuckDB IOException is a cut-off gzip stream, among others; the diagnosis tells.
        find = partial(diagnose.find_bad_value, headers)
        names = _names(headers)
        with (
            reading(names, "the exports", explain_by(find, names, "the exports")),
            FocusAggregate(headers) as groups,
        ):
            # Azure's FOCUS exports carry a manifest.json with row counts. A CSV file may
            # hold only blank lines after its header; a Parquet one's rows were counted.
            paths = [header.path for header in headers]
            parquet = [file_no for file_no, header in enumerate(headers) if header.parquet]
            groups.check(paths, listed, WHAT, find, empty_ok=parquet)
            found = []
            for start, end, invoiced, file_nos in groups.periods():
                billing_period = BillingPeriod(start, end)
                if wanted is None or billing_period == wanted:
                    found.append(
                        (billing_period, invoiced, file_nos, groups.charge_rows(start, end))
                    )
        digests: dict[int, str] = {}
        batches = []
        for billing_period, invoiced, file_nos, rows in found:
            for n in file_nos:
                digests.setdefault(n, file_digest(headers[n].path))
            batches.append(
                ChargeBatch(
                    period=billing_period,
                    source=", ".join(str(headers[n].path) for n in file_nos),
                    source_hash=combined_digest(digests[n] for n in file_nos),
                    charges=checked_charges(
                        (_charge(row, billing_period) for row in rows), partial(_where, headers)
                    ),
                    final=self.settings.final or bool(invoiced),
                )
            )
        return batches


def within(period: BillingPeriod, first: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The charge dates clamped to the batch's period (half-open).

    A charge must lie in its batch's period, but FOCUS dates a charge by when it was
    incurred, which for a correction can be an earlier month: such a charge is dated with
    the whole billing period it was billed in.
    """
    start, stop = max(first, period.start), min(end, period.end)
    return (start, stop) if start < stop else (period.start, period.end)


def _charge(row: Sequence[Any], period: BillingPeriod) -> CanonicalCharge:
    (account, sub_account, category, charge_class, frequency, service, service_category, sku,
     currency, publisher, is_marketplace, invoice_id, billed, listed, quantity, first_day,
     last_day) = row  # fmt: skip
    # ChargePeriodEnd is exclusive; a charge within one day still spans that day.
    end = last_day if last_day > first_day else first_day + ONE_DAY
    first_day, end = within(period, first_day, end)
    line_item_type = f"{category} ({charge_class})" if charge_class else category
    return CanonicalCharge(
        billing_account_id=account,
        sub_account_id=sub_account,
        charge_category=ChargeCategory(category),
        service_name=service,
        service_category=service_category,
        sku=sku,
        billed_cost=Decimal(billed),
        list_cost=Decimal(listed),
        billing_currency=currency,
        charge_period_start=first_day,
        charge_period_end=end,
        quantity=Decimal(quantity),
        charge_class=charge_class,
        publisher=publisher or None,
        is_marketplace=bool(is_marketplace),
        invoice_id=invoice_id,
        line_item_type=line_item_type,
        charge_frequency=frequency,
    )


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
    return f"{_names(headers)}: a row's {field_name}"


def _names(headers: Sequence[Header]) -> str:
    return ", ".join(str(h.path) for h in headers)
