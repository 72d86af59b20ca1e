"""Parquet CURs are aggregated by account and context hash (connector_aws.context_plan):
the same charges as the one-scan plan, the product's name from each context's first row,
and the one-scan plan whenever two contexts share a hash."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from connector_aws import AwsCurProvider, context_plan

from connector.contracts import CanonicalCharge, ChargeBatch
from tests.providers.aws_cur2_files import CUR2_HEADER, cur2_row, write_parquet
from tests.providers.cur_files import NOVEMBER, row
from tests.providers.fetching import FolderFetch

fetch = FolderFetch(AwsCurProvider)


def charges(batches: list[ChargeBatch]) -> list[tuple]:
    def key(charge: CanonicalCharge) -> tuple:
        return tuple(str(getattr(charge, name)) for name in charge.__slots__)

    return sorted((b.period.key, key(c)) for b in batches for c in b.charges)


@contextmanager
def one_scan_plan(monkeypatch) -> Iterator[list[bool]]:
    """Every context hashes alike, so the Parquet plan finds a collision and gives way;
    gives the list of what ``create_charge_groups`` returned."""
    calls: list[bool] = []
    real = context_plan.create_charge_groups

    def spied(*args):
        calls.append(real(*args))
        return calls[-1]

    with monkeypatch.context() as patch:
        patch.setattr(context_plan, "context_hash", lambda keys, table="": "42::UBIGINT")
        patch.setattr(context_plan, "create_charge_groups", spied)
        yield calls


def random_bill(seed: int, rows: int = 400) -> list[dict[str, str]]:
    """Rows over 3 accounts, 4 products, 3 usage types, 4 line item types, 2 sellers,
    2 periods, with reservation fees, costs at ten decimal places and some public costs."""
    rng = random.Random(seed)
    bill = []
    for _ in range(rows):
        product = rng.choice(["AmazonEC2", "AmazonS3", "AWSLambda", "AmazonRDS"])
        values = {
            "account": rng.choice(["111111111111", "222222222222", "333333333333"]),
            "product": product,
            "product_name": f"{product} by name",
            "usage_type": rng.choice(["BoxUsage", "Requests", "DataTransfer-Out"]),
            "type": rng.choice(["Usage", "Usage", "Fee", "Tax", "Credit"]),
            "cost": str(Decimal(rng.randrange(-(10**11), 10**12)).scaleb(-10)),
            "amount": str(Decimal(rng.randrange(0, 10**8)).scaleb(-4)),
            "public_cost": rng.choice(["", "1.25", "0.0000000003"]),
        }
        if values["type"] == "Fee" and rng.random() < 0.5:
            values["reservation"] = "arn:aws:ec2:us-east-1:1:reserved-instances/r-1"
        if rng.random() < 0.2:
            values.update(entity="AWS Marketplace", legal="Vendor, Inc.")
        if rng.random() < 0.3:
            values.update(NOVEMBER)
            values["invoice"] = ""
        bill.append(cur2_row(**values))
    return bill


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_parquet_plan_gives_the_charges_of_the_one_scan_plan(tmp_path, seed, monkeypatch):
    rows = random_bill(seed)
    # November is only in the first file: each period's source names its own files.
    october = [r for r in rows[250:] if r["bill_billing_period_start_date"].startswith("2026-10")]
    bill = rows[:250] + october
    write_parquet(tmp_path / "a" / "export-1.parquet", rows[:250], CUR2_HEADER)
    write_parquet(tmp_path / "a" / "export-2.parquet", october, CUR2_HEADER)
    two_scans = fetch(tmp_path / "a")

    with one_scan_plan(monkeypatch) as calls:
        one_scan = fetch(tmp_path / "a")
    assert calls == [False]  # the collision was seen and the one-scan plan ran

    assert charges(two_scans) == charges(one_scan)
    # Which files feed each period (the file masks), and so the source hashes, agree too.
    assert [(b.source, b.source_hash) for b in two_scans] == [
        (b.source, b.source_hash) for b in one_scan
    ]
    assert ["export-2" in b.source for b in two_scans] == [True, False]
    # The totals, summed here from the rows, not by either plan.
    for batch in two_scans:
        start = batch.period.start.isoformat()
        expected = sum(
            Decimal(r["line_item_unblended_cost"])
            for r in bill
            if r["bill_billing_period_start_date"].startswith(start)
        )
        assert sum(c.billed_cost for c in batch.charges) == expected
    assert [b.final for b in two_scans] == [True, False]


def test_a_hash_collision_gives_way_to_the_one_scan_plan(tmp_path, monkeypatch):
    write_parquet(
        tmp_path / "export.parquet",
        [cur2_row(cost="1"), cur2_row(cost="2", product="AmazonS3", product_name="S3")],
        CUR2_HEADER,
    )
    with one_scan_plan(monkeypatch) as calls:
        (batch,) = fetch(tmp_path)
    assert calls == [False]
    assert sorted((c.service_name, c.billed_cost) for c in batch.charges) == [
        ("AmazonEC2", Decimal(1)),
        ("AmazonS3", Decimal(2)),
    ]


def test_a_product_renamed_within_the_period_keeps_its_first_name(tmp_path):
    renamed = [
        cur2_row(cost="1.5", product="AWSLambda", product_name="AWS Lambda"),
        cur2_row(cost="2.25", product="AWSLambda", product_name="Lambda (new name)"),
    ]
    write_parquet(tmp_path / "export.parquet", renamed, CUR2_HEADER)
    (charge,) = fetch(tmp_path)[0].charges
    assert (charge.service_category, charge.billed_cost) == ("AWS Lambda", Decimal("3.75"))


def test_product_names_are_read_from_the_file_each_context_starts_in(tmp_path):
    # Both files' first rows are row 0: the name must come from the right file.
    write_parquet(
        tmp_path / "export-1.parquet",
        [cur2_row(product="AmazonEC2", product_name="Compute"), cur2_row(product="AmazonS3")],
        CUR2_HEADER,
    )
    write_parquet(
        tmp_path / "export-2.parquet",
        [
            cur2_row(product="AmazonRDS", product_name="Databases"),
            cur2_row(product="AmazonS3", product_name="Storage"),
        ],
        CUR2_HEADER,
    )
    (batch,) = fetch(tmp_path)
    names = {c.service_name: c.service_category for c in batch.charges}
    # AmazonS3's first row is in export-1, with the default name.
    assert names == {
        "AmazonEC2": "Compute",
        "AmazonRDS": "Databases",
        "AmazonS3": "Amazon Elastic Compute Cloud",
    }


def test_legacy_parquet_reads_the_product_name_column_once_per_context(tmp_path):
    write_parquet(
        tmp_path / "cur.parquet",
        [row(cost="1", product_name="EC2"), row(cost="2", product_name="EC2 renamed")],
    )
    (charge,) = fetch(tmp_path)[0].charges
    assert (charge.service_category, charge.billed_cost) == ("EC2", Decimal(3))


def fetch_seeing_varying_keys(folder: Path, monkeypatch) -> tuple[ChargeBatch, list[list[str]]]:
    """The one batch, and each list of keys ``context_plan.varying_keys`` found on the way."""
    seen: list[list[str]] = []
    real = context_plan.varying_keys
    with monkeypatch.context() as patch:
        patch.setattr(context_plan, "varying_keys", lambda con: seen.append(real(con)) or seen[-1])
        (batch,) = fetch(folder)
    return batch, seen


def test_a_key_that_varies_only_between_files_still_keeps_charges_apart(tmp_path, monkeypatch):
    # Only the payer differs, and only between the two files: the hash must include it.
    write_parquet(tmp_path / "export-1.parquet", [cur2_row(cost="1.5")], CUR2_HEADER)
    write_parquet(
        tmp_path / "export-2.parquet", [cur2_row(cost="2.25", payer="900000000002")], CUR2_HEADER
    )
    batch, seen = fetch_seeing_varying_keys(tmp_path, monkeypatch)
    assert seen == [["payer_account"]]
    assert sorted((c.billing_account_id, c.billed_cost) for c in batch.charges) == [
        ("900000000001", Decimal("1.5")),
        ("900000000002", Decimal("2.25")),
    ]
    with one_scan_plan(monkeypatch) as calls:
        assert charges(fetch(tmp_path)) == charges([batch])
    assert calls == [False]


def test_an_empty_key_next_to_a_filled_one_counts_as_varying(tmp_path, monkeypatch):
    # One row has an invoice id, the other none (NULL): two contexts, kept apart.
    write_parquet(
        tmp_path / "export.parquet",
        [cur2_row(cost="1"), cur2_row(cost="2", invoice="")],
        CUR2_HEADER,
    )
    batch, seen = fetch_seeing_varying_keys(tmp_path, monkeypatch)
    assert seen == [["invoice_id"]]
    assert sorted((c.invoice_id or "", c.billed_cost) for c in batch.charges) == [
        ("", Decimal(2)),
        ("EUINUS26-000001", Decimal(1)),
    ]
