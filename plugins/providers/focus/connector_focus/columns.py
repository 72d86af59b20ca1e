"""The FOCUS columns this plugin reads (1.0 to 1.2) and the header check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from connector.contracts import SourceDataError
from connector.file_formats import FOCUS, looks_like, unrecognised

TEXT, DECIMAL, DATE, CURRENCY = "text", "decimal", "date", "currency"
CATEGORY, CHARGE_CLASS, FREQUENCY = "category", "class", "frequency"


@dataclass(frozen=True, slots=True)
class Column:
    """One column read: its FOCUS name, SQL alias and kind.

    ``required`` columns must be in every file; ``not_empty`` ones must also have a value
    (not empty, not the literal ``NULL``) on every row.
    """

    name: str
    alias: str
    kind: str = TEXT
    required: bool = False
    not_empty: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("BillingAccountId", "billing_account", required=True, not_empty=True),
    Column("SubAccountId", "sub_account", required=True),
    Column("ChargeCategory", "category", CATEGORY, required=True, not_empty=True),
    Column("ChargeClass", "charge_class", CHARGE_CLASS),
    Column("ChargeFrequency", "frequency", FREQUENCY),
    Column("ServiceName", "service_name", required=True),
    Column("ServiceCategory", "service_category"),
    Column("SkuId", "sku_id"),
    Column("SkuPriceId", "sku_price_id"),
    Column("BilledCost", "billed_cost", DECIMAL, required=True, not_empty=True),
    Column("ListCost", "list_cost", DECIMAL),
    Column("BillingCurrency", "currency", CURRENCY, required=True, not_empty=True),
    Column("ChargePeriodStart", "charge_start", DATE, required=True, not_empty=True),
    Column("ChargePeriodEnd", "charge_end", DATE, required=True, not_empty=True),
    Column("BillingPeriodStart", "period_start", DATE, required=True, not_empty=True),
    Column("BillingPeriodEnd", "period_end", DATE, required=True, not_empty=True),
    Column("PricingQuantity", "pricing_quantity", DECIMAL),
    Column("ConsumedQuantity", "consumed_quantity", DECIMAL),
    Column("PublisherName", "publisher_name"),  # 1.0, 1.1
    Column("ProviderName", "provider_name"),  # 1.0, 1.1 (deprecated in 1.2)
    Column("ServiceProviderName", "service_provider_name"),  # 1.2
    Column("HostProviderName", "host_provider_name"),  # 1.2
    Column("InvoiceIssuerName", "invoice_issuer_name"),
    Column("InvoiceId", "invoice_id"),  # 1.2
)
BY_ALIAS = {c.alias: c for c in COLUMNS}
REQUIRED = tuple(c for c in COLUMNS if c.required)


@dataclass(frozen=True, slots=True)
class Header:
    """One file's columns and where each column read is (absent optional ones missing)."""

    path: Path
    parquet: bool
    names: tuple[str, ...]
    positions: dict[str, int]  # alias -> 0-based position

    def has(self, alias: str) -> bool:
        return alias in self.positions

    def column_name(self, alias: str) -> str:
        """The column's name as the file spells it (for messages)."""
        position = self.positions.get(alias)
        return self.names[position] if position is not None else BY_ALIAS[alias].name


def parse_header(path: Path, names: Sequence[str], parquet: bool) -> Header:
    """Locate the columns read, or raise :class:`SourceDataError` naming every missing one."""
    names = tuple(str(n).strip() for n in names)
    first: dict[str, int] = {}
    for index, name in enumerate(names):
        first.setdefault(name.casefold(), index)
    positions = {c.alias: first[c.name.casefold()] for c in COLUMNS if c.name.casefold() in first}
    missing = [c.name for c in REQUIRED if c.alias not in positions]
    if not missing:
        return Header(path=path, parquet=parquet, names=names, positions=positions)
    where = "its schema" if parquet else "line 1 (the header)"
    kind = looks_like(names)
    if kind is not None and kind != FOCUS:
        raise SourceDataError(
            f"{path}: this looks like {kind}, not a FOCUS export; move it out of the focus "
            f"provider's folder (or narrow its pattern)"
        )
    if len(missing) == len(REQUIRED):
        raise SourceDataError(
            f"{path}: {where} is not a FOCUS header: "
            f"{unrecognised(names, 'a FOCUS 1.0-1.2 export', missing)}"
        )
    raise SourceDataError(
        f"{path}: {where} lacks the required column(s) {', '.join(missing)}; a FOCUS export "
        f"must have all of {', '.join(c.name for c in REQUIRED)} (names match in any case)"
    )
