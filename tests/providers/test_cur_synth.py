"""The synthetic CUR generator used by the ingest benchmark, read back by the aws provider."""

from __future__ import annotations

import csv
import gzip
import importlib.util
from collections import Counter
from decimal import Decimal
from pathlib import Path

from connector_aws import AwsCurProvider

from connector.contracts import ChargeCategory

SYNTH = Path(__file__).resolve().parents[2] / "benchmarks" / "cur_synth.py"


def load_cur_synth():
    spec = importlib.util.spec_from_file_location("cur_synth", SYNTH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_rows(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", newline="") as text:
        return list(csv.DictReader(text))


def test_generator_writes_a_cur_the_provider_reads_exactly(tmp_path):
    cur_synth = load_cur_synth()
    path = cur_synth.write_synthetic_cur(
        tmp_path / "cur" / "cur.csv.gz", rows=20_000, accounts=50, period="2026-02"
    )
    rows = read_rows(path)
    assert len(rows) == 20_000
    (batch,) = AwsCurProvider({"path": "cur"}, tmp_path).fetch()
    assert (batch.period.start.isoformat(), batch.period.end.isoformat()) == (
        "2026-02-01",
        "2026-03-01",
    )
    assert batch.final  # every generated row has an invoice id
    # The provider's exact sum equals the sum of the file's own values.
    assert sum(c.billed_cost for c in batch.charges) == sum(
        Decimal(r["lineItem/UnblendedCost"]) for r in rows
    )
    assert {c.sub_account_id for c in batch.charges} == {r["lineItem/UsageAccountId"] for r in rows}


def test_generator_mixes_every_line_item_type_marketplace_and_ten_decimal_costs(tmp_path):
    cur_synth = load_cur_synth()
    rows = read_rows(
        cur_synth.write_synthetic_cur(tmp_path / "cur.csv.gz", rows=20_000, accounts=100)
    )
    types = Counter(r["lineItem/LineItemType"] for r in rows)
    assert set(types) == {name for _, name in cur_synth.LINE_ITEM_TYPES}
    assert types["Usage"] > len(rows) * 0.8
    marketplace = [r for r in rows if r["bill/BillingEntity"] == "AWS Marketplace"]
    assert 0.01 < len(marketplace) / len(rows) < 0.03
    assert any(Decimal(r["lineItem/UnblendedCost"]) == 0 for r in marketplace)
    assert len({r["lineItem/ProductCode"] for r in rows}) >= 20
    assert all(len(r["lineItem/UnblendedCost"].split(".")[1]) == 10 for r in rows)
    assert all(r["bill/InvoiceId"] for r in rows)


def test_generator_is_deterministic(tmp_path):
    cur_synth = load_cur_synth()
    first = cur_synth.write_synthetic_cur(tmp_path / "a.csv", rows=2_000, accounts=10)
    second = cur_synth.write_synthetic_cur(tmp_path / "b.csv", rows=2_000, accounts=10)
    other_seed = cur_synth.write_synthetic_cur(tmp_path / "c.csv", rows=2_000, accounts=10, seed=7)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other_seed.read_bytes()


def test_generated_charges_cover_every_charge_category(tmp_path):
    cur_synth = load_cur_synth()
    cur_synth.write_synthetic_cur(tmp_path / "cur.csv", rows=20_000, accounts=20)
    (batch,) = AwsCurProvider({"path": "."}, tmp_path).fetch()
    assert {c.charge_category for c in batch.charges} == set(ChargeCategory)
    assert any(c.is_marketplace for c in batch.charges)


def test_parquet_flavour_holds_the_same_rows_and_reads_to_the_same_exact_sums(tmp_path):
    cur_synth = load_cur_synth()
    csv_path = cur_synth.write_synthetic_cur(
        tmp_path / "csv" / "cur.csv.gz", rows=20_000, accounts=50
    )
    parquet_path = cur_synth.write_synthetic_cur(
        tmp_path / "parquet" / "cur.parquet", rows=20_000, accounts=50
    )
    assert parquet_path.read_bytes()[:4] == b"PAR1"
    rows = read_rows(csv_path)
    (from_csv,) = AwsCurProvider({"path": "csv"}, tmp_path).fetch()
    (from_parquet,) = AwsCurProvider({"path": "parquet"}, tmp_path).fetch()
    expected = sum(Decimal(r["lineItem/UnblendedCost"]) for r in rows)
    assert sum(c.billed_cost for c in from_parquet.charges) == expected

    def key(charge):
        return (
            charge.sub_account_id,
            charge.service_name,
            charge.sku,
            charge.line_item_type,
            charge.publisher,
            charge.invoice_id,
        )

    csv_charges = {key(c): c for c in from_csv.charges}
    parquet_charges = {key(c): c for c in from_parquet.charges}
    assert len(parquet_charges) == len(from_parquet.charges)  # the key is the grain
    assert parquet_charges.keys() == csv_charges.keys()
    for k, charge in parquet_charges.items():
        twin = csv_charges[k]
        # Costs (below 100, ten places) survive the DOUBLE exactly; usage amounts up to
        # 100,000 keep the double's own error in the 12th place, far below a unit.
        assert (charge.billed_cost, charge.list_cost) == (twin.billed_cost, twin.list_cost)
        assert abs(charge.quantity - twin.quantity) < Decimal("1e-9")
        assert charge.charge_frequency == twin.charge_frequency
