"""Statements built in worker processes are the statements one process builds.

The example tenant's three AWS customers, one customer a part, two workers: each
statement read back is compared, Decimal for Decimal, with the pure domain function's
(the oracle of test_build_bulk_store), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import select

from connector.domain.pricing import version_in_force
from connector.pipeline import credits
from connector.pipeline.build import parts as build_parts
from connector.pipeline.build.build import (
    BuildError,
    _statement_options,
    generate,
    pricebook_versions,
)
from connector.pipeline.ingest.ingest import ingest
from connector.storage import models as m
from tests.pipeline.legacy_credits import store_grant
from tests.pipeline.test_build_bulk_store import assert_same, oracle, read_back
from tests.pipeline.test_currency_and_purchases import (
    ACCOUNT,
    charge,
    make_runtime,
    store,
    upfront,
)
from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER


@pytest.fixture
def two_workers(runtime, monkeypatch):
    monkeypatch.setattr(build_parts, "PART", 1)
    runtime.settings.build_workers = 2
    return runtime


def test_statements_built_by_workers_are_those_one_process_builds(two_workers, db_url) -> None:
    runtime = two_workers
    ingest(runtime, "acme", "aws")
    store_grant(runtime, "1002", "100.0000000001")  # finer than a cent
    report = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    # In the tenant file's order, each once, whichever worker finished first.
    assert [s.customer_id for s in report.generated] == ["1001", "1002", "1003"]
    available = {"1001": Decimal(0), "1002": Decimal("100.0000000001"), "1003": Decimal(0)}
    for statement in report.generated:
        built = oracle(runtime, statement.customer_id, available[statement.customer_id])
        assert_same(read_back(runtime, statement.id), built, db_url.startswith("sqlite"))
    ids = [s.id for s in report.generated]
    assert ids == sorted(ids)  # time-ordered ids, given before the parts are handed out

    rebuilt = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE).generated
    assert [s.revision for s in rebuilt] == [2, 2, 2]
    with runtime.db.transaction() as session:
        assert set(session.scalars(select(m.Statement.id))) == {s.id for s in rebuilt}
        applied = session.scalars(
            select(m.CreditEntry.amount).where(m.CreditEntry.kind == credits.APPLICATION)
        ).all()
        assert applied == [Decimal("100.00")]  # given back, then applied once, in whole cents


def test_a_workers_failure_reaches_the_builder(two_workers) -> None:
    """A part that cannot be built raises its error in the builder, at its turn
    (the builder's transaction then ends without storing anything)."""
    runtime = two_workers
    ingest(runtime, "acme", "aws")
    with runtime.db.transaction() as session:
        batch_ids = tuple(session.scalars(select(m.ChargeBatch.id)))
        accounts = tuple(session.scalars(select(m.Charge.sub_account_id).distinct()))
    broken = build_parts.Order("s-1", accounts, None, None, Decimal(1))  # no options
    good = build_parts.Part(batch_ids, [], upfront_apart=False, text_money=True)
    bad = build_parts.Part(batch_ids, [broken], upfront_apart=False, text_money=True)
    with runtime.db.transaction() as session:
        made = build_parts.made_parts(session, runtime.db.url, [good, bad, good], workers=2)
        assert next(made) == []
        with pytest.raises(AttributeError, match="currency"):
            next(made)


class EndsTheProcess:
    """Unpickled in a worker, it ends that process at once, as the kernel's OOM killer
    would."""

    def __reduce__(self):
        return (os._exit, (9,))


def test_a_worker_that_dies_is_reported_and_nothing_is_stored(two_workers) -> None:
    runtime = two_workers
    ingest(runtime, "acme", "aws")
    with runtime.db.transaction() as session:
        batch_ids = tuple(session.scalars(select(m.ChargeBatch.id)))
    killed = build_parts.Order("s-1", ("1",), EndsTheProcess(), None, Decimal(1))
    part = build_parts.Part(batch_ids, [killed], upfront_apart=False, text_money=True)
    with runtime.db.transaction() as session:
        made = build_parts.made_parts(session, runtime.db.url, [part, part], workers=2)
        with pytest.raises(build_parts.WorkerLost, match="build_workers: 1"):
            next(made)
    # Through the builder: its BuildError, and its transaction stored nothing.
    real_parts = build_parts.parts

    def with_a_killed_order(orders, *args, **kwargs):
        return real_parts([*orders, killed], *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(build_parts, "parts", with_a_killed_order)
        with pytest.raises(BuildError, match="ended before finishing its part"):
            generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    with runtime.db.transaction() as session:
        assert session.scalars(select(m.Statement.id)).all() == []


@pytest.mark.parametrize(
    ("url", "shared"),
    [
        ("sqlite:///var/lib/connector.db", True),
        ("sqlite://", False),
        ("sqlite:///:memory:", False),
        ("postgresql+psycopg://u@db/connector", True),
    ],
)
def test_only_a_database_other_processes_can_open_is_shared(url, shared) -> None:
    assert build_parts.shareable(url) is shared


@pytest.fixture
def globex(tmp_path, db_url):
    runtime = make_runtime(tmp_path, db_url, policy="immediately", currency="USD")
    yield runtime
    runtime.db.dispose()


def test_purchase_and_usage_parts_built_in_workers_equal_those_built_here(globex) -> None:
    """Globex's one account: an approved-looking purchase (1,200.00) is left out of the
    purchase order by what was billed, a new one (300.00) is kept; the usage order
    leaves both upfront fees out. The same parts give the same rows either way."""
    runtime = globex
    store(runtime, "v1", charge("Compute", "50.00"), upfront("1200.00", day=5),
          upfront("300.00", day=20))  # fmt: skip
    config = runtime.tenant("globex")
    customer = config.customer("2001")
    pricebook = version_in_force(pricebook_versions(config, "aws-10"), OCTOBER.start)
    options = _statement_options(config, customer, config.generation, Decimal(0))
    billed = Counter(
        {(ACCOUNT, "Amazon Elastic Compute Cloud", "Amazon Elastic Compute Cloud",
          "Amazon Elastic Compute Cloud-sku", "Fee", Decimal("1200.00").normalize(),
          Decimal(1)): 1}
    )  # fmt: skip
    with runtime.db.transaction() as session:
        batch_ids = tuple(session.scalars(select(m.ChargeBatch.id)))
        purchase = build_parts.Part(
            batch_ids,
            [build_parts.Order("p", (ACCOUNT,), pricebook, options, Decimal(1), billed)],
            upfront_apart=True, text_money=True,
        )  # fmt: skip
        usage = build_parts.Part(
            batch_ids,
            [build_parts.Order("u", (ACCOUNT,), pricebook, options, Decimal(1))],
            upfront_apart=True, text_money=True,
        )  # fmt: skip
        here = [build_parts.build_part(session, part) for part in (purchase, usage)]
        there = list(build_parts.made_parts(session, runtime.db.url, [purchase, usage], 2))
    assert there == here
    [bought], [used] = here
    assert [line[4] for line in bought.lines if line[2] == "service"] == ["330.00"]
    assert [line[4] for line in used.lines if line[2] == "service"] == ["55.00"]
