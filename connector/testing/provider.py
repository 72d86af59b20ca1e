"""The provider conformance suite: ``TestMine = provider_test_class(MyProvider, settings=...)``.

What a provider promises (see :class:`connector.contracts.Provider`): one
:class:`ChargeBatch` per billing period, every charge inside its batch's period, money
as :class:`~decimal.Decimal`, ISO 4217 currency codes, a ``source_hash`` that does not
change while the data does not, and ``fetch(period)`` returning that period only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.contracts import BillingPeriod, CanonicalCharge, ChargeBatch, ChargeCategory
from connector.testing.failures import (
    ConformanceError,
    floats_in,
    name_suite,
    plugin_label,
    require,
    require_plain_name,
    require_protocol,
)

ProviderSettings = Mapping[str, Any] | Callable[[Path], Mapping[str, Any]]
ISO_4217 = re.compile(r"[A-Z]{3}")
MONEY_FIELDS = ("billed_cost", "list_cost", "quantity")
DATE_FIELDS = ("charge_period_start", "charge_period_end")


@dataclasses.dataclass(frozen=True, slots=True)
class ProviderSetup:
    """The settings and tenant folder one kit run builds its provider instances with."""

    provider_cls: type
    settings: Mapping[str, Any]
    base_dir: Path

    @property
    def label(self) -> str:
        return plugin_label("provider", self.provider_cls)

    def fetch(self, period: BillingPeriod | None = None) -> list[ChargeBatch]:
        """A new instance's batches, as a daemon restarted between runs would get them."""
        provider = self.provider_cls(self.settings, self.base_dir)
        return list(provider.fetch(period) if period is not None else provider.fetch())


def describe_charge(index: int, charge: CanonicalCharge) -> str:
    """``charge #3 (account 1111, service AmazonEC2, sku BoxUsage)``: enough to find it."""
    return (
        f"charge #{index} (account {getattr(charge, 'sub_account_id', '?')}, "
        f"service {getattr(charge, 'service_name', '?')}, sku {getattr(charge, 'sku', '?')})"
    )


def _period_text(period: BillingPeriod) -> str:
    return f"{period.key} [{period.start}, {period.end})"


def check_provider_class(cls: type) -> None:
    """``name``, ``settings_model`` and ``fetch`` as :class:`Provider` declares them."""
    __tracebackhide__ = True
    label = require_protocol("provider", cls)
    require_plain_name(label, cls)
    require(callable(cls.fetch), f"{label}: fetch is not callable")  # type: ignore[attr-defined]


def check_settings_model(cls: type, settings: Mapping[str, Any]) -> None:
    """``settings_model`` (when set) accepts the settings: ``check-config`` validates with it."""
    __tracebackhide__ = True
    model = getattr(cls, "settings_model", None)
    if model is None:
        return
    validate = getattr(model, "model_validate", model)
    try:
        validate(dict(settings))
    except Exception as exc:
        raise ConformanceError(
            f"{plugin_label('plugin', cls)}: its settings_model {model.__name__} rejects the "
            f"settings the kit was given, so check-config would reject a tenant that works: {exc}"
        ) from None


def check_batches(label: str, batches: Sequence[object]) -> None:
    """At least one batch, each a ChargeBatch of a distinct, well-formed period."""
    __tracebackhide__ = True
    require(
        batches,
        f"{label}: fetch() yielded no batches; give the kit settings that point at sample data "
        "holding at least one billing period",
    )
    seen: dict[BillingPeriod, int] = {}
    for number, batch in enumerate(batches):
        require(
            isinstance(batch, ChargeBatch),
            f"{label}: fetch() yielded a {type(batch).__name__} (item {number}), not a ChargeBatch",
        )
        assert isinstance(batch, ChargeBatch)
        period = batch.period
        require(
            isinstance(period, BillingPeriod) and period.start < period.end,
            f"{label}: batch {number} has period {period!r}; it must be a BillingPeriod whose "
            "start is before its (exclusive) end",
        )
        require(
            period not in seen,
            f"{label}: batches {seen.get(period)} and {number} are both for "
            f"{_period_text(period)}; yield one batch per billing period",
        )
        seen[period] = number
        require(
            isinstance(batch.source_hash, str) and batch.source_hash,
            f"{label}: batch {period.key} has source_hash {batch.source_hash!r}; it must be a "
            "non-empty string that changes when the source data changes",
        )
        require(
            isinstance(batch.final, bool),
            f"{label}: batch {period.key} has final={batch.final!r}; it must be True or False",
        )
        for index, charge in enumerate(batch.charges):
            require(
                isinstance(charge, CanonicalCharge),
                f"{label}: batch {period.key} item {index} is a {type(charge).__name__}, "
                "not a CanonicalCharge",
            )


def check_charges_in_period(label: str, batches: Sequence[ChargeBatch]) -> None:
    """Each charge's ``[charge_period_start, charge_period_end]`` lies in its batch's period."""
    __tracebackhide__ = True
    check_batches(label, batches)
    for batch in batches:
        period = batch.period
        for index, charge in enumerate(batch.charges):
            start, end = charge.charge_period_start, charge.charge_period_end
            for name, value in zip(DATE_FIELDS, (start, end), strict=True):
                require(
                    isinstance(value, dt.date) and not isinstance(value, dt.datetime),
                    f"{label}: batch {period.key} {describe_charge(index, charge)}: {name} is "
                    f"{type(value).__name__} {value!r}; it must be a datetime.date",
                )
            require(
                period.start <= start <= end <= period.end,
                f"{label}: batch {_period_text(period)} holds {describe_charge(index, charge)} "
                f"from {start} to {end}, outside the batch's period; a charge belongs to the "
                "batch of the period it was incurred in",
            )


def check_money_is_decimal(label: str, batches: Sequence[ChargeBatch]) -> None:
    """Costs and quantities are finite Decimals, and no float hides anywhere in a charge."""
    __tracebackhide__ = True
    check_batches(label, batches)
    for batch in batches:
        for index, charge in enumerate(batch.charges):
            where = f"{label}: batch {batch.period.key} {describe_charge(index, charge)}"
            for name in MONEY_FIELDS:
                value = getattr(charge, name)
                require(
                    isinstance(value, Decimal),
                    f"{where}: {name} is {type(value).__name__} {value!r}; money must be "
                    "decimal.Decimal (parse the source text with Decimal(text), never float)",
                )
                require(value.is_finite(), f"{where}: {name} is {value}, not a finite amount")
            for path, value in floats_in(charge, "charge"):
                raise ConformanceError(f"{where}: {path} is float {value!r}; use Decimal")


def check_categories_and_currencies(label: str, batches: Sequence[ChargeBatch]) -> None:
    """FOCUS charge categories and 3-letter upper-case ISO 4217 currency codes."""
    __tracebackhide__ = True
    check_batches(label, batches)
    for batch in batches:
        for index, charge in enumerate(batch.charges):
            where = f"{label}: batch {batch.period.key} {describe_charge(index, charge)}"
            currency = charge.billing_currency
            require(
                isinstance(currency, str) and ISO_4217.fullmatch(currency),
                f"{where}: billing_currency {currency!r} is not a 3-letter ISO 4217 code "
                "such as USD or EUR",
            )
            try:
                ChargeCategory(charge.charge_category)
            except ValueError:
                valid = ", ".join(c.value for c in ChargeCategory)
                raise ConformanceError(
                    f"{where}: charge_category {charge.charge_category!r} is not a FOCUS "
                    f"ChargeCategory ({valid})"
                ) from None


def check_stable_hash(
    label: str, first: Sequence[ChargeBatch], second: Sequence[ChargeBatch]
) -> None:
    """Two fetches of unchanged data give the same periods, source_hash and charges."""
    __tracebackhide__ = True
    check_batches(label, first)
    before = {b.period: b for b in first}
    after = {b.period: b for b in second}
    require(
        set(before) == set(after),
        f"{label}: two fetches of the same data found different periods: "
        f"{sorted(p.key for p in before)} then {sorted(p.key for p in after)}",
    )
    for period, batch in before.items():
        again = after[period]
        require(
            batch.source_hash == again.source_hash,
            f"{label}: source_hash of {period.key} changed between two fetches of the same "
            f"data ({batch.source_hash!r} then {again.source_hash!r}); the core would ingest "
            "it again each run. Hash the source content, not times or object ids",
        )
        require(
            Counter(batch.charges) == Counter(again.charges),
            f"{label}: the charges of {period.key} differ between two fetches of the same data",
        )


def check_period_filter(
    label: str,
    all_batches: Sequence[ChargeBatch],
    period: BillingPeriod,
    filtered: Sequence[ChargeBatch],
) -> None:
    """``fetch(period)`` yields only ``period``, with the same charges fetch() found for it."""
    __tracebackhide__ = True
    for batch in filtered:
        require(
            isinstance(batch, ChargeBatch) and batch.period == period,
            f"{label}: fetch({_period_text(period)}) yielded a batch for "
            f"{getattr(getattr(batch, 'period', None), 'key', batch)!r}; it must yield that "
            "period only",
        )
    expected = Counter(c for b in all_batches if b.period == period for c in b.charges)
    found = Counter(c for b in filtered for c in b.charges)
    missing, extra = expected - found, found - expected
    require(
        not missing and not extra,
        f"{label}: fetch({period.key}) returned {sum(found.values())} charges but fetch() found "
        f"{sum(expected.values())} for that period ({sum(missing.values())} missing, "
        f"{sum(extra.values())} extra)",
    )


def provider_test_class(
    provider_cls: type,
    *,
    settings: ProviderSettings,
    base_dir: Path | None = None,
    period: BillingPeriod | None = None,
) -> type:
    """A pytest test class checking ``provider_cls`` against the Provider contract.

    :param settings: the tenant's ``providers.<key>.settings``; or a callable that gets a
        fresh temporary folder, writes sample data into it and returns the settings.
    :param base_dir: the tenant file's folder, which relative paths resolve from
        (default: that temporary folder).
    :param period: the period to check ``fetch(period)`` with (default: every period
        ``fetch()`` finds).

    Assign the result to a ``Test...`` name in a test module. The data is fetched once per
    class; subclass to add fixtures (e.g. an autouse ``responses`` mock of an API).
    """

    class ProviderConformance:
        kit_provider_class = provider_cls

        @pytest.fixture(scope="class")
        @classmethod
        def kit_provider(cls, tmp_path_factory: pytest.TempPathFactory) -> ProviderSetup:
            folder = tmp_path_factory.mktemp("provider-data")
            values = settings(folder) if callable(settings) else settings
            return ProviderSetup(provider_cls, dict(values), base_dir or folder)

        @pytest.fixture(scope="class")
        @classmethod
        def kit_batches(cls, kit_provider: ProviderSetup) -> list[ChargeBatch]:
            return kit_provider.fetch()

        def test_satisfies_the_provider_protocol(self) -> None:
            check_provider_class(provider_cls)

        def test_settings_model_accepts_the_settings(self, kit_provider: ProviderSetup) -> None:
            check_settings_model(provider_cls, kit_provider.settings)

        def test_fetch_yields_one_charge_batch_per_period(
            self, kit_provider: ProviderSetup, kit_batches: list[ChargeBatch]
        ) -> None:
            check_batches(kit_provider.label, kit_batches)

        def test_charges_fall_in_their_batch_period(
            self, kit_provider: ProviderSetup, kit_batches: list[ChargeBatch]
        ) -> None:
            check_charges_in_period(kit_provider.label, kit_batches)

        def test_money_is_decimal_never_float(
            self, kit_provider: ProviderSetup, kit_batches: list[ChargeBatch]
        ) -> None:
            check_money_is_decimal(kit_provider.label, kit_batches)

        def test_currency_is_iso_4217_and_category_is_focus(
            self, kit_provider: ProviderSetup, kit_batches: list[ChargeBatch]
        ) -> None:
            check_categories_and_currencies(kit_provider.label, kit_batches)

        def test_source_hash_is_stable_across_fetches(
            self, kit_provider: ProviderSetup, kit_batches: list[ChargeBatch]
        ) -> None:
            check_stable_hash(kit_provider.label, kit_batches, kit_provider.fetch())

        def test_fetch_of_one_period_returns_only_that_period(
            self, kit_provider: ProviderSetup, kit_batches: list[ChargeBatch]
        ) -> None:
            periods = [period] if period is not None else [b.period for b in kit_batches]
            check_batches(kit_provider.label, kit_batches)
            for wanted in periods:
                filtered = kit_provider.fetch(wanted)
                check_period_filter(kit_provider.label, kit_batches, wanted, filtered)

    return name_suite(ProviderConformance, provider_cls)
