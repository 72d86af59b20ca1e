"""The ``softlayer`` provider: the account's invoices, read through the SoftLayer API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from connector.contracts import BillingPeriod, ChargeBatch, PluginError, SourceDataError
from connector_softlayer.charges import period_charges
from connector_softlayer.periods import (
    RECURRING,
    invoice_period,
    next_period,
    period_of,
    periods_starting_in,
)
from connector_softlayer.records import (
    Invoice,
    Item,
    content_hash,
    first_sighting,
    parse_invoice,
    parse_items,
)
from connector_softlayer.settings import SoftLayerSettings, load_settings

if TYPE_CHECKING:
    from connector_softlayer.api import SoftLayerApi

DEFAULT_CURRENCY = "USD"


class SoftLayerProvider:
    """Reads a SoftLayer account's invoices and their items through the SoftLayer API.

    Every invoice (RECURRING, NEW, ONE-TIME-CHARGE, CREDIT, REFUND) belongs to one
    anniversary period (:func:`connector_softlayer.periods.invoice_period`); each period's
    invoice items, children included, become charges aggregated exactly. A period is
    final once the RECURRING invoice closing it exists.
    """

    name: ClassVar[str] = "softlayer"
    display_name: ClassVar[str] = "IBM Cloud (SoftLayer)"
    settings_model: ClassVar[type | None] = SoftLayerSettings

    def __init__(self, settings: Mapping[str, Any], base_dir: Path) -> None:
        self.settings = load_settings(dict(settings))
        self.base_dir = Path(base_dir)
        #: Today's date; replaced in tests.
        self.today: Callable[[], dt.date] = dt.date.today

    def _api(self) -> SoftLayerApi:
        from connector_softlayer.api import SoftLayerApi

        return SoftLayerApi(
            username=self.settings.username,
            api_key=self.settings.secret(),
            endpoint_url=self.settings.endpoint_url,
            timeout=self.settings.timeout,
        )

    def fetch(self, period: BillingPeriod | None = None) -> Iterator[ChargeBatch]:
        """Yield one batch per anniversary period with invoices (only ``period`` when given).

        ``period`` may be a calendar month: the anniversary period starting in it is read.
        Raises :class:`SourceDataError` for malformed API records (an invoice or item
        repeated by overlapping pages is read once) and :class:`PluginError` when an API
        call fails; either before the first batch, so a bad period yields none.
        """
        api = self._api()
        info = api.billing_info()
        account_id = self._account_id(info)
        currency = _currency(info)
        day = self._anniversary_day(api, info)
        if period is not None:
            wanted = periods_starting_in(period, day)
        else:
            wanted = self._recent_periods(day)
        if not wanted:
            return
        first, last = wanted[0], wanted[-1]
        # The RECURRING invoice closing the last period is dated in the period after it.
        window_end = next_period(last, day).end
        by_period: dict[BillingPeriod, list[Invoice]] = {}
        seen: dict[str, Invoice] = {}
        for position, record in enumerate(api.invoices(first.start, window_end)):
            invoice = parse_invoice(record, position)
            if not first_sighting(invoice, seen):
                continue
            home = invoice_period(invoice.type_code, invoice.created, day)
            if first.start <= home.start <= last.start:
                by_period.setdefault(home, []).append(invoice)
        # Every period is read and checked before the first is yielded: ingest stores
        # each batch as it comes, so a bad item in a later period must stop them all.
        batches = []
        for home in sorted(by_period, key=lambda p: p.start):
            invoices = sorted(by_period[home], key=lambda i: (i.created, i.id))
            with_items: list[tuple[Invoice, Sequence[Item]]] = [
                (invoice, parse_items(invoice.id, api.top_level_items(invoice.id)))
                for invoice in invoices
            ]
            batches.append(
                ChargeBatch(
                    period=home,
                    source=(
                        f"SoftLayer account {account_id} invoices "
                        + ", ".join(invoice.id for invoice in invoices)
                    ),
                    source_hash=content_hash(account_id, currency, with_items),
                    charges=period_charges(with_items, account_id, currency, home),
                    final=any(invoice.type_code == RECURRING for invoice in invoices),
                )
            )
        yield from batches

    def _account_id(self, info: Mapping[str, Any]) -> str:
        found = info.get("accountId")
        api_id = None if found is None or isinstance(found, bool) else str(found).strip()
        configured = self.settings.account_id
        if configured and api_id and configured != api_id:
            raise PluginError(
                f"the SoftLayer credentials belong to account {api_id}, not the configured "
                f"account_id {configured}: fix the provider's api_key or account_id"
            )
        account_id = configured or api_id
        if not account_id:
            raise SourceDataError(
                "SoftLayer_Account::getBillingInfo: required field 'accountId' is missing; "
                "set account_id in the provider settings"
            )
        return account_id

    def _anniversary_day(self, api: SoftLayerApi, info: Mapping[str, Any]) -> int:
        """The setting, else the account's anniversary day, else the latest RECURRING's day."""
        if self.settings.billing_day is not None:
            return self.settings.billing_day
        day = info.get("anniversaryDayOfMonth")
        if day is not None:
            if isinstance(day, bool) or not str(day).strip().isdigit():
                raise SourceDataError(
                    f"SoftLayer_Account::getBillingInfo: field 'anniversaryDayOfMonth' is "
                    f"{day!r}; expected a day of the month 1..31 (or set billing_day)"
                )
            if 1 <= int(str(day)) <= 31:
                return int(str(day))
        latest = api.latest_recurring_invoice()
        if latest is not None:
            return parse_invoice(latest, 0).created.day
        return 1  # no anniversary known and nothing billed yet: calendar months

    def _recent_periods(self, day: int) -> list[BillingPeriod]:
        current = period_of(self.today(), day)
        if self.settings.since is not None:
            start = period_of(self.settings.since, day)
        else:
            start = current
            for _ in range(self.settings.lookback_periods - 1):
                start = period_of(start.start - dt.timedelta(days=1), day)
        periods = [start]
        while periods[-1].start < current.start:
            periods.append(next_period(periods[-1], day))
        return periods


def _currency(info: Mapping[str, Any]) -> str:
    currency = info.get("currency")
    if isinstance(currency, Mapping):
        code = currency.get("KeyName") or currency.get("keyName")
        if isinstance(code, str) and len(code.strip()) == 3 and code.strip().isalpha():
            return code.strip().upper()
    return DEFAULT_CURRENCY
