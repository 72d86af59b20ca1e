"""The ``azure-csp`` provider: Partner Center invoice reconciliation files -> charge batches.

Every file is read whole in Python, so a cut-off one is refused by what is left of it: a
last line without a line break (Partner Center ends CSV and JSON lines files with one), a
short last row or an open quote (the csv module), a gzip stream without its trailer. A
file cut exactly at a line end cannot be detected: neither the portal's CSV nor the API's
JSON lines carry a row count here. A file holding only its header is "no data rows".
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import ClassVar

from connector.contracts import (
    BillingPeriod,
    CanonicalCharge,
    ChargeBatch,
    ChargeCategory,
    SourceDataError,
    checked_charges,
)
from connector.plugin_kit.file_formats import locate_text
from connector.plugin_kit.files import find_files
from connector.plugin_kit.periods import dates_within
from connector.plugin_kit.settings import FolderProvider
from connector_azure.azure_provider import AzureCharges
from connector_azure.csp_fields import as_text
from connector_azure.csp_files import NOT_A_FOLDER, READ_SUFFIXES, read_records
from connector_azure.csp_rows import KEY_BITS, CspRow, check_row
from connector_azure.csp_settings import AzureCspSettings
from connector_azure.periods import period_of

PEC_LINE = "Partner Earned Credit"
TAX_LINE = "Tax"
ZERO = Decimal(0)
MASK = (1 << KEY_BITS) - 1

# (partner, customer, category, class, line item type, service, service category, sku,
#  currency, publisher, marketplace, invoice, frequency)
Grain = tuple[str, str, ChargeCategory, str | None, str, str, str, str, str, str, bool, str,
              str | None]  # fmt: skip
# Rows of an invoice are placed together; rows without an invoice number by their date.
Placement = tuple[str, object]  # ("invoice", number) or ("date", BillingPeriod)


@dataclass(slots=True)
class _Sums:
    billed: Decimal = ZERO
    listed: Decimal = ZERO
    quantity: Decimal = ZERO
    start: dt.date = dt.date.max
    end: dt.date = dt.date.min

    def add(self, billed: Decimal, listed: Decimal, quantity: Decimal, row: CspRow) -> None:
        self.billed += billed
        self.listed += listed
        self.quantity += quantity
        self.start = min(self.start, row.start)
        self.end = max(self.end, row.end)

    def merge(self, other: _Sums) -> None:
        self.billed += other.billed
        self.listed += other.listed
        self.quantity += other.quantity
        self.start = min(self.start, other.start)
        self.end = max(self.end, other.end)


@dataclass(slots=True)
class _Content:
    """How many rows, and the sum of their keys: equal for the same rows in any order."""

    rows: int = 0
    keys: int = 0
    files: set[int] = field(default_factory=set)

    def add(self, key: int, file_no: int) -> None:
        self.rows += 1
        self.keys = (self.keys + key) & MASK
        self.files.add(file_no)


class AzureCspProvider(AzureCharges, FolderProvider):
    """Reads Partner Center (CSP) invoice reconciliation line items: the portal's CSV and
    the billed invoice reconciliation API v2's gzip'ed JSON lines.

    One charge per partner, customer tenant, charge type, product, SKU, currency,
    publisher and invoice in each billing period; the customer tenant (``CustomerId``)
    is the account tenant files map to customers. Everything is read and checked before
    the first batch is returned, so bad data never yields part of a period.
    """

    name: ClassVar[str] = "azure-csp"
    display_name: ClassVar[str] = "Microsoft Azure CSP"
    settings_model: ClassVar[type | None] = AzureCspSettings
    settings: AzureCspSettings

    def fetch(self, period: BillingPeriod | None = None) -> Iterator[ChargeBatch]:
        """Yield one batch per billing period found (only ``period`` when given).

        ``source_hash`` depends on the period's rows only, not on their order, their file
        format or how the export split them into files. Raises :class:`SourceDataError`
        naming file, line, field and value for bad data.
        """
        files = find_files(self.folder, self.settings.pattern, READ_SUFFIXES, NOT_A_FOLDER)
        if files:
            yield from self._read(files, period)

    def _read(self, files: list[Path], wanted: BillingPeriod | None) -> list[ChargeBatch]:
        groups: dict[tuple[Placement, Grain], _Sums] = {}
        content: dict[Placement, _Content] = {}
        per_file: dict[tuple[str, int], _Content] = {}
        invoice_day: dict[str, dt.date] = {}
        for file_no, path in enumerate(files):
            for line, layout, record in read_records(path):
                row = check_row(layout, line, record)
                if row.invoice:
                    place: Placement = ("invoice", row.invoice)
                    invoice_day[row.invoice] = max(invoice_day.get(row.invoice, row.event),
                                                   row.event)  # fmt: skip
                else:
                    place = ("date", period_of(row.event, self.settings.billing_day))
                for grain, billed, listed, quantity in _charges(row):
                    groups.setdefault((place, grain), _Sums()).add(billed, listed, quantity, row)
                content.setdefault(place, _Content()).add(row.key, file_no)
                per_file.setdefault((row.invoice, file_no), _Content()).add(row.key, file_no)
        _refuse_duplicate_files(files, per_file)

        def period_of_place(place: Placement) -> BillingPeriod:
            kind, value = place
            if kind == "invoice":
                return period_of(invoice_day[str(value)], self.settings.billing_day)
            return value  # type: ignore[return-value]

        charges: dict[BillingPeriod, dict[Grain, _Sums]] = {}
        for (place, grain), sums in groups.items():
            charges.setdefault(period_of_place(place), {}).setdefault(grain, _Sums()).merge(sums)
        batches = []
        for billing_period in sorted(charges, key=lambda p: p.start):
            if wanted is not None and billing_period != wanted:
                continue
            places = [p for p in content if period_of_place(p) == billing_period]
            file_nos = sorted(set().union(*(content[p].files for p in places)))
            batches.append(
                ChargeBatch(
                    period=billing_period,
                    source=", ".join(str(files[i]) for i in file_nos),
                    source_hash=_content_hash(content[p] for p in places),
                    charges=checked_charges(
                        (
                            _charge(g, s, billing_period)
                            for g, s in sorted(
                                charges[billing_period].items(), key=lambda item: _order(item[0])
                            )
                        ),
                        partial(_where, files),
                    ),
                    # Billed reconciliation rows always carry the invoice number.
                    final=self.settings.final or all(kind == "invoice" for kind, _ in places),
                )  # fmt: skip
            )
        return batches


def _charges(row: CspRow) -> Iterator[tuple[Grain, Decimal, Decimal, Decimal]]:
    """``(grain, billed, list, quantity)`` of the row's charges: the charge itself at its
    cost before partner-earned credit, the credit, and the tax."""
    head = (row.partner, row.customer)
    tail = (row.currency, row.publisher, row.is_marketplace, row.invoice)
    main = (row.category, row.charge_class, row.charge_type, row.service, row.service, row.sku)
    yield (*head, *main, *tail, row.frequency), row.gross, row.gross, row.quantity
    if row.pec:
        credit = (ChargeCategory.CREDIT, None, PEC_LINE, row.service, row.service, row.sku)
        yield (*head, *credit, *tail, row.frequency), row.pec, row.pec, ZERO
    if row.tax:
        tax = (ChargeCategory.TAX, None, TAX_LINE, row.service, TAX_LINE, row.sku)
        yield (*head, *tax, *tail, None), row.tax, row.tax, ZERO


def _order(grain: Grain) -> tuple:
    return tuple("" if v is None else str(v) for v in grain)


def _charge(grain: Grain, sums: _Sums, period: BillingPeriod) -> CanonicalCharge:
    (partner, customer, category, charge_class, line_item_type, service, service_category, sku,
     currency, publisher, is_marketplace, invoice, frequency) = grain  # fmt: skip
    start, end = dates_within(period, sums.start, sums.end)
    return CanonicalCharge(
        billing_account_id=partner,
        sub_account_id=customer,
        charge_category=category,
        service_name=service,
        service_category=service_category,
        sku=sku,
        billed_cost=sums.billed,
        list_cost=sums.listed,
        billing_currency=currency,
        charge_period_start=start,
        charge_period_end=end,
        quantity=sums.quantity,
        charge_class=charge_class,
        publisher=publisher,
        is_marketplace=is_marketplace,
        invoice_id=invoice or None,
        line_item_type=line_item_type,
        charge_frequency=frequency,
    )


# Charge field -> the fields its text comes from (see csp_rows.check_row).
TEXT_SOURCES = {
    "billing_account_id": ("partner",),
    "sub_account_id": ("customer",),
    "service_name": ("product_name", "sku_name", "product_id"),
    "service_category": ("product_name", "sku_name", "product_id"),
    "sku": ("sku_name", "sku_id", "product_id"),
    "publisher": ("publisher_name",),
    "invoice_id": ("invoice",),
    "line_item_type": ("charge_type",),
}


def _where(files: list[Path], field_name: str, value: str) -> str:
    """File, line and field a charge's text ``value`` came from (re-reads the files)."""
    aliases = TEXT_SOURCES.get(field_name, ())
    for path in files:
        layouts = {}

        def named(path: Path = path, layouts: dict = layouts) -> Iterator[tuple[int, dict]]:
            for line, layout, record in read_records(path):
                layouts["layout"] = layout
                yield line, {alias: as_text(raw) for alias, raw in record.items()}

        found = locate_text(named(), value, aliases)
        if found is not None:
            line, alias = found
            return f"{path}: line {line}, field {layouts['layout'].name(alias)}"
    return f"{', '.join(map(str, files))}: a row's {field_name}"


def _content_hash(parts: Iterator[_Content]) -> str:
    rows, keys = 0, 0
    for part in parts:
        rows += part.rows
        keys = (keys + part.keys) & MASK
    return hashlib.sha256(f"csp:{rows}:{keys:032x}".encode()).hexdigest()


def _refuse_duplicate_files(files: list[Path], per_file: dict[tuple[str, int], _Content]) -> None:
    """The same invoice's rows twice (its CSV and its JSON export, say) would bill twice."""
    seen: dict[tuple[str, int, int], int] = {}
    for (invoice, file_no), part in sorted(per_file.items(), key=lambda item: item[0][1]):
        other = seen.setdefault((invoice, part.rows, part.keys), file_no)
        if other != file_no:
            what = f"invoice {invoice}" if invoice else "unbilled charges"
            raise SourceDataError(
                f"{files[other]} and {files[file_no]} hold the same {part.rows} line item(s) "
                f"of {what} (the same rows, perhaps in another order or format); keep one of "
                f"them in the folder, or they would be billed twice"
            )
