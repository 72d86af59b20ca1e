"""Telling an amortized-cost export from the actual-cost export this plugin bills from.

Cost Management writes the same usage in two data sets. In *actual cost* (what the
invoice adds up to) usage covered by a reservation or a savings plan has EffectivePrice
0, so it costs 0, and the commitment is billed on its own ``Purchase`` row. In *amortized
cost* that usage carries its share of the commitment (EffectivePrice x Quantity, not 0),
purchases bring no cost, and unused commitment shows as UnusedReservation /
UnusedSavingsPlan. Read side by side with the actual-cost file, an amortized one bills
every reservation twice.

The signal: a ``Usage`` row whose ``PricingModel`` is ``Reservation`` or ``SavingsPlan``
and whose cost is not 0. Actual cost never has one, so a genuine actual-cost file is not
refused. An amortized export of an account without reservations or savings plans has
none either, but its rows are then the actual-cost rows themselves.

As with the other value rules (:mod:`connector_azure.values`), the SQL the scan runs and
the Python that names the line afterwards are kept side by side here.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from connector_azure.columns import Header
from connector_azure.diagnose import rows

USAGE = "usage"
# PricingModel values of usage a commitment paid for, lower case.
COMMITMENT_MODELS = ("reservation", "savingsplan")


def sql_amortized_row(charge_type: str, pricing_model: str, cost: str) -> str:
    """SQL true for a row only an amortized-cost export has.

    :param charge_type: SQL text of the charge type, trimmed.
    :param pricing_model: SQL text of the pricing model, trimmed.
    :param cost: SQL DECIMAL of the row's cost (NULL when it is not a number).
    """
    models = ", ".join(f"'{model}'" for model in COMMITMENT_MODELS)
    return (
        f"(lower({charge_type}) = '{USAGE}' AND lower({pricing_model}) IN ({models}) "
        f"AND coalesce({cost} <> 0, false))"
    )


def is_amortized_row(charge_type: str, pricing_model: str, cost: str) -> bool:
    """The Python twin of :func:`sql_amortized_row`, on a row's raw values."""
    if charge_type.strip().lower() != USAGE:
        return False
    if pricing_model.strip().lower() not in COMMITMENT_MODELS:
        return False
    try:
        return Decimal(cost.strip()) != 0
    except InvalidOperation:
        return False


def amortized_message(header: Header) -> str | None:
    """Why ``header``'s file is refused as amortized cost, naming its first such row.

    ``None`` when no row shows it (the file has no PricingModel column, or no usage a
    commitment paid for with a cost).
    """
    if not header.has("pricing_model"):
        return None
    at = header.positions
    for line, row in rows(header):
        charge_type, model = row[at["charge_type"]], row[at["pricing_model"]]
        cost = row[at["cost"]]
        if is_amortized_row(charge_type, model, cost):
            return (
                f"{header.path}: this is an amortized-cost export, not actual cost: line "
                f"{line} is {charge_type.strip()} with {header.column_name('pricing_model')} "
                f"{model.strip()} and {header.column_name('cost')} {cost.strip()}, but in "
                f"actual cost usage paid by a reservation or savings plan costs 0 (the "
                f"purchase is billed on its own Purchase row), so reading it with the "
                f"actual-cost export would bill reservations twice. Export the actual cost "
                f"(Cost Management export of type 'Actual cost') into the folder instead, or "
                f"narrow the azure provider's pattern to the actual-cost files"
            )
    return None
