"""FOCUS 1.1 (``focus_1_1_gcp.csv``, Google Cloud-shaped, October 2026, USD).

1.1 has no InvoiceId (1.2 added it) and brings ServiceSubcategory, SkuMeter,
SkuPriceDetails and the capacity-reservation and commitment-discount columns, which the
provider does not need. BilledCost per row: 18.4123456789 + 6.5876543211 (N2 cores, one
grain written "Usage"/"usage" and "Usage-Based"/"usage-based") + 1200.00 (committed use
upfront) + 0.00 (Fivetran free tier) - 3.00 (correction) = 1222.00.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

from connector_focus import FocusProvider

from connector.contracts import BillingPeriod, ChargeBatch, ChargeCategory
from tests.providers.focus_files import FIXTURES

FOCUS_11 = FIXTURES / "focus_1_1_gcp.csv"
OCTOBER = BillingPeriod(dt.date(2026, 10, 1), dt.date(2026, 11, 1))


def fetch(tmp_path: Path, **settings: object) -> ChargeBatch:
    shutil.copy(FOCUS_11, tmp_path)
    [batch] = FocusProvider({"path": str(tmp_path), **settings}, tmp_path).fetch()
    return batch


def test_focus_11_sums_to_the_billed_total_and_is_not_final_without_invoice_ids(tmp_path):
    batch = fetch(tmp_path)
    assert batch.period == OCTOBER
    assert sum(c.billed_cost for c in batch.charges) == Decimal("1222.00")
    assert batch.final is False  # no InvoiceId in 1.1: the close rule or the setting decides
    assert {c.billing_currency for c in batch.charges} == {"USD"}


def test_focus_11_case_variants_are_one_grain_and_the_correction_is_kept_apart(tmp_path):
    charges = {(c.sku, c.charge_class): c for c in fetch(tmp_path).charges}
    cores = charges[("2C6D-E1F0-8D4A", None)]
    assert (cores.charge_category, cores.charge_frequency) == (ChargeCategory.USAGE, "Usage-Based")
    assert cores.billed_cost == Decimal("25.0000000000")  # 18.4123456789 + 6.5876543211
    assert cores.list_cost == Decimal("27.25")  # 20.00 + 7.25
    assert (cores.service_name, cores.service_category) == ("Compute Engine", "Compute")
    correction = charges[("E5F0-6A5D-7BAD", "Correction")]
    assert (correction.charge_category, correction.billed_cost) == (
        ChargeCategory.CREDIT,
        Decimal("-3.00"),
    )
    upfront = charges[("CUD-N2-1Y", None)]
    assert (upfront.charge_category, upfront.charge_frequency) == (
        ChargeCategory.PURCHASE,
        "One-Time",
    )
    free = charges[("FT-FREE", None)]
    assert (free.is_marketplace, free.publisher, free.billed_cost) == (
        True,
        "Fivetran",
        Decimal("0.00"),
    )
    assert len(charges) == 4


def test_focus_11_is_final_when_the_setting_says_so(tmp_path):
    assert fetch(tmp_path, final=True).final is True
