"""Exchange rates of a billing period, and converting charges with them (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from connector.domain.statement import CustomerCharge


class MissingRate(LookupError):
    """No rate for a period and currency pair; the message says what to add."""


@dataclass(frozen=True, slots=True)
class ExchangeRates:
    """Rates by ``(period key, from currency, to currency)``; 1 unit of ``from`` is
    ``rate`` units of ``to``.

    Only the direction given is used: the inverse of a published rate is not the other
    direction's published rate (1 / 0.9215 has no exact decimal), and a reseller's
    statement must show the rate the distributor or the bank actually used.
    """

    rates: Mapping[tuple[str, str, str], Decimal]
    source: str = "exchange rates"

    def rate(self, period: str, from_currency: str, to_currency: str) -> Decimal:
        """The rate for ``period`` (``YYYY-MM``); 1 for the same currency."""
        if from_currency == to_currency:
            return Decimal(1)
        try:
            return self.rates[(period, from_currency, to_currency)]
        except KeyError:
            raise MissingRate(
                f"{self.source} has no rate for {period} from {from_currency} to "
                f"{to_currency}: add a line `{period},{from_currency},{to_currency},<rate>`"
            ) from None


NO_RATES = ExchangeRates({}, "the tenant file names no exchange_rates file, so it")


def convert(charges: Sequence[CustomerCharge], rate: Decimal) -> list[CustomerCharge]:
    """``charges`` with cost and list cost in the statement currency, at full precision.

    Converted before pricing, so markups apply to the converted cost and each line is
    rounded once, in the statement currency.
    """
    if rate == 1:
        return list(charges)
    return [c._replace(cost=c.cost * rate, list_cost=c.list_cost * rate) for c in charges]
