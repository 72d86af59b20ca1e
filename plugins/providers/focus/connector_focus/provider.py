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
from collections.abc import Sequence
from decimal import Decimal
from functools import partial
from typing import Any, ClassVar

from connector.contracts import (
    BillingPeriod,
    CanonicalCharge,
    ChargeBatch,
    ChargeCategory,
    checked_charges,
)
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

    def read(self, found: FoundExports, wanted: BillingPeriod | None) -> list[ChargeBatch]:
        """Batches by FOCUS billing period: ``source`` lists the files holding the
        period's rows and ``source_hash`` is a sha256 over those files' own sha256s, in
        path order. Azure's FOCUS exports carry a manifest.json with row counts, which
        are checked."""
        from connector_focus.query import FocusAggregate

        find = diagnose.find_bad_value
        headers: Sequence[Header] = found.headers
        with checked_scan(FocusAggregate(headers), found, WHAT, find) as groups:
            read = []
            for start, end, invoiced, file_nos in groups.periods():
                billing_period = BillingPeriod(start, end)
                if wanted is None or billing_period == wanted:
                    read.append(
                        (billing_period, invoiced, file_nos, groups.charge_rows(start, end))
                    )
        digests: dict[int, str] = {}
        batches = []
        for billing_period, invoiced, file_nos, rows in read:
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


def _charge(row: Sequence[Any], period: BillingPeriod) -> CanonicalCharge:
    (account, sub_account, category, charge_class, frequency, service, service_category, sku,
     currency, publisher, is_marketplace, invoice_id, billed, listed, quantity, first_day,
     last_day) = row  # fmt: skip
    # ChargePeriodEnd is exclusive; a charge within one day still spans that day.
    end = last_day if last_day > first_day else first_day + ONE_DAY
    first_day, end = dates_within(period, first_day, end)
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
    return f"{', '.join(str(h.path) for h in headers)}: a row's {field_name}"
