"""Two processes building statements that draw on the same credit balances never overdraw them.

The tenant buys from AWS under two provider keys (``aws`` and ``aws-b``, the same
report), so each customer gets one statement per key and both draw on the customer's
one balance: "a credit earned on one cloud can pay another cloud's statement". Two
spawned processes, one per key, start together and each rebuilds its drafts several
times (a rebuild gives the draft's credit back and applies again), so their balance
reads and applications interleave as two daemons' would. This is the same approach as
test_concurrent_approval.py uses for invoice numbers.
"""

from __future__ import annotations

import multiprocessing
import shutil
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from connector.config.settings import DaemonSettings
from connector.pipeline import credits
from connector.pipeline.build.build import generate
from connector.pipeline.ingest.ingest import ingest
from connector.runtime.runtime import open_runtime
from connector.storage import models as m
from tests.conftest import REPO
from tests.pipeline.conftest import CUR
from tests.pipeline.legacy_credits import store_grant
from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER

PROVIDERS = ("aws", "aws-b")
REBUILDS = 4
# Each grant is smaller than any one statement of its customer (1001 and 1002 owe over
# 300.00 on each key, 1003 about 176.00 of services), so all of it that can be applied
# is applied, whichever statement gets it. 1002's grant has a tenth of a nano-dollar
# that no statement can carry: it stays in the balance.
GRANTS = {"1001": "150.00", "1002": "100.0000000001", "1003": "75.50"}


def cents(amount: Decimal) -> Decimal:
    """The whole cents of ``amount``: what of a balance statements can apply."""
    return amount.quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def tenants_with_two_aws_keys(tmp_path: Path) -> Path:
    """The example tenant, its AWS report also billed under a second provider key."""
    tenants = tmp_path / "tenants"
    shutil.copytree(REPO / "config/tenants", tenants)
    path = tenants / "acme.yaml"
    data = yaml.safe_load(path.read_text())
    data["providers"]["aws"]["settings"]["path"] = str(CUR.parent)
    data["providers"]["aws-b"] = {**data["providers"]["aws"], "plugin": "aws"}
    [book] = [b for b in data["pricebooks"] if b["id"] == "aws-standard"]
    data["pricebooks"].append({**book, "id": "aws-b-standard", "provider": "aws-b"})
    for customer in data["customers"]:
        customer["accounts"]["aws-b"] = list(customer["accounts"]["aws"])
        customer["pricebooks"]["aws-b"] = "aws-b-standard"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return tenants


def _rebuild_drafts(settings: dict[str, Any], provider: str, start: Any, seen: Any) -> None:
    """One process: rebuild every draft of ``provider`` together with the other process,
    round after round, and after each round (both builds committed) report every
    customer's ledger as (customer, granted, applied, balance)."""
    runtime = open_runtime(DaemonSettings(**settings))
    for _ in range(REBUILDS):
        start.wait()
        generate(runtime, "acme", provider, OCTOBER, today=AFTER_CLOSE)
        start.wait()
        with runtime.db.transaction() as session:
            seen.put(
                [(b.customer_id, str(b.granted), str(b.applied), str(b.balance))
                 for b in credits.balances(session, "acme")]
            )  # fmt: skip
    runtime.db.dispose()


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_two_processes_building_against_one_balance_never_overdraw_it(
    db: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Per customer, after every racing round and at the end: every whole cent of the
    grant is applied and no more (a statement applies min(balance, what it may pay), and
    each grant is smaller than any statement), the balance is never negative, and
    grants = applied + balance; at the end the ledger's applications are exactly the
    credit lines of the statements that stand.

    Checked by removing the locks (the tenant row lock the build takes, and the customer
    locks): on PostgreSQL the first round then applies each grant twice (1001: 300.00 of
    150.00, balance -150.00) and this fails; SQLite serialises writers (BEGIN IMMEDIATE).
    """
    url = (
        f"sqlite:///{tmp_path / 'connector.db'}"
        if db == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    settings = {"database_url": url, "tenants_dir": tenants_with_two_aws_keys(tmp_path),
                "output_dir": tmp_path / "out"}  # fmt: skip
    runtime = open_runtime(DaemonSettings(**settings))
    for provider in PROVIDERS:
        ingest(runtime, "acme", provider)
    for customer, amount in GRANTS.items():
        store_grant(runtime, customer, amount, "promo credit")  # 1002's is sub-cent

    context = multiprocessing.get_context("spawn")
    start, seen = context.Barrier(len(PROVIDERS), timeout=120), context.Queue()
    workers = [context.Process(target=_rebuild_drafts, args=(settings, provider, start, seen))
               for provider in PROVIDERS]  # fmt: skip
    for worker in workers:
        worker.start()
    # Read before joining: a process does not end while what it queued is unread.
    rounds = [seen.get(timeout=300) for _ in range(REBUILDS * len(PROVIDERS))]
    for worker in workers:
        worker.join(timeout=300)
        assert worker.exitcode == 0

    # After every round, not only the last (a later round can hide an earlier overdraw).
    for ledger_then in rounds:
        assert sorted(customer for customer, *_ in ledger_then) == sorted(GRANTS)
        for customer, granted, applied, left in ledger_then:
            assert Decimal(granted) == Decimal(GRANTS[customer])
            assert Decimal(applied) == cents(Decimal(granted)), (customer, ledger_then)
            assert Decimal(left) >= 0 and Decimal(granted) == Decimal(applied) + Decimal(left)

    with runtime.db.transaction() as session:
        statements = session.scalars(select(m.Statement)).all()
        applications = session.scalars(
            select(m.CreditEntry).where(m.CreditEntry.kind == credits.APPLICATION)
        ).all()
        ledger = {b.customer_id: b for b in credits.balances(session, "acme")}
        credit_lines = {
            s.id: -sum((line.amount for line in s.lines if line.kind == "credit"), Decimal(0))
            for s in statements
        }
    assert sorted((s.customer_id, s.provider) for s in statements) == sorted(
        (customer, provider) for customer in GRANTS for provider in PROVIDERS
    )
    assert {s.revision for s in statements} == {REBUILDS}
    assert {a.statement_id: a.amount for a in applications} == {
        statement_id: amount for statement_id, amount in credit_lines.items() if amount
    }
    for customer, amount in GRANTS.items():
        granted = Decimal(amount)
        applied = sum(
            (credit_lines[s.id] for s in statements if s.customer_id == customer), Decimal(0)
        )
        row = ledger[customer]
        assert applied == cents(granted)
        assert row.applied == applied and row.balance == granted - applied >= 0
        assert row.granted == granted == row.applied + row.balance
    runtime.db.dispose()
