"""CSV CURs are aggregated in one scan as two grouping sets, the contexts and the sums
per usage account and context hash (connector_aws.context_plan): the same charges as
the plan grouping on every key, and that plan whenever two contexts share a hash."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from connector_aws import AwsCurProvider, context_plan

from tests.providers.cur_files import NOVEMBER, row, write_cur
from tests.providers.fetching import FolderFetch
from tests.providers.test_aws_parquet_plan import charges

fetch = FolderFetch(AwsCurProvider)


@contextmanager
def every_key_plan(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Every context hashes alike, so the grouping sets find a collision and give way;
    gives the list of what ``create_charge_groups_in_one_scan`` returned."""
    calls: list[bool] = []
    real = context_plan.create_charge_groups_in_one_scan

    def spied(*args):  # type: ignore[no-untyped-def]
        calls.append(real(*args))
        return calls[-1]

    with monkeypatch.context() as patch:
        patch.setattr(context_plan, "context_hash", lambda keys, table="": "42::UBIGINT")
        patch.setattr(context_plan, "create_charge_groups_in_one_scan", spied)
        yield calls


def random_bill(seed: int, rows: int = 400) -> list[dict[str, str]]:
    """Rows over 4 accounts, 4 products, 3 usage types, 5 line item types, 2 sellers and
    2 periods, with reservation fees, costs at ten places, empty and set public costs."""
    rng = random.Random(seed)
    bill = []
    for n in range(rows):
        product = rng.choice(["AmazonEC2", "AmazonS3", "AWSLambda", "AmazonRDS"])
        values = {
            "line_item_id": f"li-{n}",
            "account": rng.choice(["111111111111", "222222222222", "333333333333", "4444"]),
            "product": product,
            "product_name": f"{product} by name",
            "usage_type": rng.choice(["BoxUsage", "Requests", "DataTransfer-Out"]),
            "type": rng.choice(["Usage", "Usage", "Fee", "Tax", "Credit", "RIFee"]),
            "cost": str(Decimal(rng.randrange(-(10**11), 10**12)).scaleb(-10)),
            "amount": str(Decimal(rng.randrange(0, 10**8)).scaleb(-4)),
            "public_cost": rng.choice(["", "1.25", "0.0000000003"]),
        }
        if rng.random() < 0.2:
            values.update(entity="AWS Marketplace", legal="Vendor, Inc.")
        if rng.random() < 0.3:
            values.update(NOVEMBER)
            values["invoice"] = ""
        bill.append(row(**values))
    return bill


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_grouping_sets_give_the_charges_of_the_plan_on_every_key(tmp_path, seed, monkeypatch):
    rows = random_bill(seed)
    october = [r for r in rows[250:] if r["bill/BillingPeriodStartDate"].startswith("2026-10")]
    write_cur(tmp_path / "a" / "export-1.csv.gz", rows[:250])
    write_cur(tmp_path / "a" / "export-2.csv", october)
    grouped = fetch(tmp_path / "a")
    with every_key_plan(monkeypatch) as calls:
        every_key = fetch(tmp_path / "a")
    assert calls == [False]  # the collision was seen, and the plan on every key ran

    assert charges(grouped) == charges(every_key)
    assert [(b.source, b.source_hash, b.final) for b in grouped] == [
        (b.source, b.source_hash, b.final) for b in every_key
    ]
    assert ["export-2" in b.source for b in grouped] == [True, False]
    bill = rows[:250] + october
    for batch in grouped:  # the totals, summed here from the rows, not by either plan
        start = batch.period.start.isoformat()
        expected = sum(
            Decimal(r["lineItem/UnblendedCost"])
            for r in bill
            if r["bill/BillingPeriodStartDate"].startswith(start)
        )
        assert sum(c.billed_cost for c in batch.charges) == expected


def test_a_hash_collision_gives_way_to_the_plan_on_every_key(tmp_path, monkeypatch):
    write_cur(
        tmp_path / "export.csv",
        [row(cost="1"), row(cost="2", product="AmazonS3", product_name="S3", line_item_id="2")],
    )
    with every_key_plan(monkeypatch) as calls:
        (batch,) = fetch(tmp_path)
    assert calls == [False]
    assert sorted((c.service_name, c.billed_cost) for c in batch.charges) == [
        ("AmazonEC2", Decimal(1)),
        ("AmazonS3", Decimal(2)),
    ]


def test_the_contexts_are_grouped_apart_from_the_accounts_sums(tmp_path, monkeypatch):
    """What makes the plan small: the sums are grouped by account and hash, two keys."""
    write_cur(tmp_path / "export.csv", random_bill(7, rows=60))
    seen: list[str] = []
    real = context_plan.grouping_sets_sql
    monkeypatch.setattr(
        context_plan, "grouping_sets_sql", lambda *a: seen.append(real(*a)) or seen[-1]
    )
    fetch(tmp_path)
    (sql,) = seen
    assert "GROUPING SETS ((context, usage_account), (context, period_start" in sql
