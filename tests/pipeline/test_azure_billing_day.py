"""The tenant's invoice option ``azure_billing_day`` sets the Azure providers' periods."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from connector.config.tenant import ProviderConfig
from connector.contracts import BillingPeriod
from connector.pipeline.ingest.ingest import make_provider
from tests.conftest import REPO

SAMPLE = REPO / "tests/fixtures/azure/EA_ActualCost_Small.csv"


@pytest.fixture
def azure_tenant(runtime, tmp_path):
    """acme buying Azure too, its actual-cost sample (rows dated 2023-09-04 ..
    2023-09-21) in a folder of its own; the invoice option's billing day is 15."""
    folder = tmp_path / "azure"
    folder.mkdir()
    shutil.copy(SAMPLE, folder)
    config = runtime.tenants["acme"]
    options = config.invoice_options.model_copy(update={"azure_billing_day": 15})
    providers = {**config.providers, "azure": ProviderConfig(settings={"path": str(folder)})}
    runtime.tenants["acme"] = config.model_copy(
        update={"invoice_options": options, "providers": providers}
    )
    return runtime


def periods(runtime) -> list[BillingPeriod]:
    return [batch.period for batch in make_provider(runtime, "acme", "azure").fetch()]


def test_the_invoice_option_sets_the_azure_periods(azure_tenant) -> None:
    """Billing Day 15: rows of 4 and 5 September fall in 16 Aug .. 15 Sep, the row of
    21 September in 16 Sep .. 15 Oct (ends half-open: the day after)."""
    assert periods(azure_tenant) == [
        BillingPeriod(dt.date(2023, 8, 16), dt.date(2023, 9, 16)),
        BillingPeriod(dt.date(2023, 9, 16), dt.date(2023, 10, 16)),
    ]


def test_a_billing_day_in_the_provider_settings_wins(azure_tenant) -> None:
    """The provider's own ``billing_day: 31`` gives calendar months: all of September."""
    azure_tenant.tenants["acme"].providers["azure"].settings["billing_day"] = 31
    assert periods(azure_tenant) == [BillingPeriod(dt.date(2023, 9, 1), dt.date(2023, 10, 1))]
