"""The cost-details columns this plugin reads (EA and MCA spellings) and the header check."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from connector.contracts import SourceDataError
from connector.file_formats import AZURE_COST, looks_like, unrecognised

DECIMAL = "DECIMAL(38,12)"
DATE = "DATE"
TEXT = "VARCHAR"


@dataclass(frozen=True, slots=True)
class Column:
    """One column we read: its accepted names (first found wins), SQL alias, kind.

    Names are matched case-insensitively, so the EA spelling (``CostInBillingCurrency``)
    and the MCA one (``costInBillingCurrency``) are the same column. ``required`` columns
    must be in every file's header; ``not_empty`` ones must also have a value on every row.
    """

    names: tuple[str, ...]
    alias: str
    kind: str = TEXT
    required: bool = False
    not_empty: bool = False

    @property
    def label(self) -> str:
        return " / ".join(self.names)


COLUMNS: tuple[Column, ...] = (
    Column(("BillingAccountId",), "billing_account", required=True, not_empty=True),
    Column(("SubscriptionId",), "subscription", required=True),
    Column(("Date",), "charge_date", DATE, required=True, not_empty=True),
    Column(("MeterCategory",), "meter_category", required=True),
    # The EA v2 sample names the cost "Cost" and the currency "BillingCurrency".
    Column(("CostInBillingCurrency", "Cost"), "cost", DECIMAL, required=True, not_empty=True),
    Column(("BillingCurrencyCode", "BillingCurrency"), "currency", required=True, not_empty=True),
    Column(("ChargeType",), "charge_type", required=True, not_empty=True),
    Column(("MeterSubCategory",), "meter_subcategory"),
    Column(("MeterName",), "meter_name"),
    Column(("PartNumber",), "part_number"),
    Column(("ProductName", "Product"), "product"),
    Column(("Quantity",), "quantity", DECIMAL),
    Column(("PayGPrice",), "payg_price", DECIMAL),
    Column(("PaygCostInBillingCurrency",), "payg_cost", DECIMAL),
    Column(("PublisherType",), "publisher_type"),
    Column(("PublisherName",), "publisher_name"),
    # MCA: filled once the invoice exists (finality, the charge's invoice id).
    Column(("InvoiceId",), "invoice_id"),
    # Reservation / SavingsPlan usage with a cost marks an amortized-cost export.
    Column(("PricingModel",), "pricing_model"),
)
BY_ALIAS = {c.alias: c for c in COLUMNS}
REQUIRED = tuple(c for c in COLUMNS if c.required)


@dataclass(frozen=True, slots=True)
class Header:
    """One file's header: every column's name and where each column we read is."""

    path: Path
    names: tuple[str, ...]
    positions: dict[str, int]  # alias -> 0-based position; absent optional columns missing

    def has(self, alias: str) -> bool:
        return alias in self.positions

    def column_name(self, alias: str) -> str:
        """The column's name as the file spells it (for messages)."""
        position = self.positions.get(alias)
        return self.names[position] if position is not None else BY_ALIAS[alias].names[0]


def parse_header(path: Path, names: Sequence[str]) -> Header:
    """Locate the columns read, or raise :class:`SourceDataError` naming every missing one."""
    names = tuple(n.strip() for n in names)
    first: dict[str, int] = {}
    for index, name in enumerate(names):
        first.setdefault(name.casefold(), index)
    positions: dict[str, int] = {}
    for column in COLUMNS:
        for candidate in column.names:
            if candidate.casefold() in first:
                positions[column.alias] = first[candidate.casefold()]
                break
    missing = [c.label for c in REQUIRED if c.alias not in positions]
    kind = looks_like(names) if missing else None
    if kind is not None and kind != AZURE_COST:
        raise SourceDataError(
            f"{path}: this looks like {kind}, not an Azure EA / MCA cost-details export; "
            f"move it out of the azure provider's folder (or narrow its pattern)"
        )
    if len(missing) == len(REQUIRED):
        raise SourceDataError(
            f"{path}: line 1 is not an Azure cost-details header: "
            f"{unrecognised(names, 'an EA or MCA actual-cost export', missing)}"
        )
    if missing:
        raise SourceDataError(
            f"{path}: line 1 (the header) lacks the required column(s) {', '.join(missing)}; "
            f"an Azure cost-details export must have all of "
            f"{', '.join(c.label for c in REQUIRED)} (names match in any case)"
        )
    return Header(path=path, names=names, positions=positions)
