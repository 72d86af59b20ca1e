"""The two rounding views of a billing report, and their roll-up through the drill-down.

The seeds describe two ways of arriving at the same month's money:

* the **report view** rounds each usage-type line to the currency's minor unit (the two
  decimals a report shows) and then adds the rounded lines up, so every level of the
  drill-down is the sum of what is shown beneath it;
* the **bill view** sums at full precision and rounds once per statement line: per
  service category (per cloud account × service category when the tenant groups
  lines by account), marketplace products on lines of their own.

The two can differ by a few cents; the bill is the one to the penny. Pure: values in,
values out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from connector.domain.money import ZERO, round_money

# The drill-down, coarsest first; ``--by`` picks one.
LEVELS = ("customer", "account", "service", "usage-type")

# (period, currency, customer, account | None, is_marketplace, service category):
# one statement line, the bill view's rounding unit.
BillUnit = tuple[str, str, str, str | None, bool, str]


@dataclass(frozen=True, slots=True)
class UsageLine:
    """One usage-type line at full precision: the report's finest grain.

    ``period`` is the billing period key (``2026-10``); amounts are in ``currency``.
    """

    period: str
    currency: str
    customer_id: str
    account_id: str
    is_marketplace: bool
    service_category: str
    service_name: str
    usage_type: str
    line_item_type: str
    quantity: Decimal
    cost: Decimal
    price: Decimal


def row_key(line: UsageLine, level: str) -> tuple:
    """The key of the row ``line`` falls in at ``level`` of the drill-down."""
    depth = LEVELS.index(level)
    key: tuple = (line.period, line.currency, line.customer_id)
    if depth >= 1:
        key += (line.account_id,)
    if depth >= 2:
        key += (line.is_marketplace, line.service_category)
    if depth >= 3:
        key += (line.service_name, line.usage_type, line.line_item_type)
    return key


def bill_unit(line: UsageLine, group_by_account: bool) -> BillUnit:
    """The statement line ``line`` is billed on."""
    account = line.account_id if group_by_account else None
    return (
        line.period,
        line.currency,
        line.customer_id,
        account,
        line.is_marketplace,
        line.service_category,
    )


def unit_row_key(unit: BillUnit, level: str) -> tuple | None:
    """The row at ``level`` that holds the whole statement line ``unit``, or None when
    rows at that level split it (an account row of a line that spans accounts, and
    every usage-type row)."""
    period, currency, customer, account, marketplace, category = unit
    if level == "customer":
        return (period, currency, customer)
    if account is None or level == "usage-type":
        return None
    if level == "account":
        return (period, currency, customer, account)
    return (period, currency, customer, account, marketplace, category)


@dataclass(frozen=True, slots=True)
class Figures:
    """One report row in both views.

    ``cost`` and ``price`` are exact (full precision); ``cost_report`` and
    ``price_report`` are the report view (Σ of lines each rounded to the minor unit);
    ``price_bill`` is the bill view: Σ of the rounded statement lines the row holds
    when ``bill_rounded``, else (a row finer than a statement line) the exact price,
    which is all the bill knows at that depth.
    """

    quantity: Decimal = ZERO
    cost: Decimal = ZERO
    price: Decimal = ZERO
    cost_report: Decimal = ZERO
    price_report: Decimal = ZERO
    price_bill: Decimal = ZERO
    bill_rounded: bool = True

    @property
    def margin(self) -> Decimal:
        """Exact price minus exact cost."""
        return self.price - self.cost

    @property
    def margin_report(self) -> Decimal:
        """Margin as the report shows it: rounded price lines minus rounded cost lines."""
        return self.price_report - self.cost_report

    @property
    def margin_bill(self) -> Decimal:
        """Margin on the bill: the billed price minus the exact cost."""
        return self.price_bill - self.cost

    @property
    def view_difference(self) -> Decimal:
        """Report view minus bill view of the price: the pennies rounding moves."""
        return self.price_report - self.price_bill

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.quantity + other.quantity,
            self.cost + other.cost,
            self.price + other.price,
            self.cost_report + other.cost_report,
            self.price_report + other.price_report,
            self.price_bill + other.price_bill,
            self.bill_rounded and other.bill_rounded,
        )

    def __sub__(self, other: Figures) -> Figures:
        return Figures(
            self.quantity - other.quantity,
            self.cost - other.cost,
            self.price - other.price,
            self.cost_report - other.cost_report,
            self.price_report - other.price_report,
            self.price_bill - other.price_bill,
            self.bill_rounded and other.bill_rounded,
        )


def bill_units(
    lines: Iterable[UsageLine], group_by_account: bool, mode: str = "half_up"
) -> dict[BillUnit, Decimal]:
    """Each statement line's price: summed at full precision, then rounded once."""
    exact: dict[BillUnit, Decimal] = {}
    for line in lines:
        unit = bill_unit(line, group_by_account)
        exact[unit] = exact.get(unit, ZERO) + line.price
    return {unit: round_money(amount, unit[1], mode) for unit, amount in exact.items()}


def roll_up(
    lines: Iterable[UsageLine],
    level: str,
    units: Mapping[BillUnit, Decimal],
    mode: str = "half_up",
) -> dict[tuple, Figures]:
    """The rows at ``level``: both views of every row, keyed by :func:`row_key`.

    ``units`` are the rounded statement lines (see :func:`bill_units`, or a statement's
    stored lines for values as billed). Rows that hold whole units get Σ units as their
    bill view; rows finer than a unit keep the exact price. A unit with no usage line
    (a statement line whose charges have gone) still counts at the levels holding it.
    """
    if level not in LEVELS:
        raise ValueError(f"level {level!r} is not valid: use one of {', '.join(LEVELS)}")
    sums: dict[tuple, list] = {}
    for line in lines:
        key = row_key(line, level)
        row = sums.get(key)
        if row is None:
            row = sums[key] = [ZERO, ZERO, ZERO, ZERO, ZERO]
        row[0] += line.quantity
        row[1] += line.cost
        row[2] += line.price
        row[3] += round_money(line.cost, line.currency, mode)
        row[4] += round_money(line.price, line.currency, mode)
    billed: dict[tuple, Decimal] = {}
    split = set()  # rows whose bill view cannot be told from whole statement lines
    for unit, amount in units.items():
        key = unit_row_key(unit, level)
        if key is None:
            split.add(unit[:3])
            continue
        billed[key] = billed.get(key, ZERO) + amount
    rows = {}
    for key in sums.keys() | billed.keys():
        quantity, cost, price, cost_report, price_report = sums.get(key, [ZERO] * 5)
        rounded = key[:3] not in split and level != "usage-type"
        rows[key] = Figures(
            quantity,
            cost,
            price,
            cost_report,
            price_report,
            billed.get(key, ZERO) if rounded else price,
            rounded,
        )
    return rows


def zero_like(figures: Figures) -> Figures:
    """Zero in every amount, with the same bill-view rounding."""
    return replace(Figures(), bill_rounded=figures.bill_rounded)
