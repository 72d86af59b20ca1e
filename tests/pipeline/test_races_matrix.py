"""Every pair of state changes that can meet on one statement or outbox entry, raced.

Two real processes on PostgreSQL (each with its own runtime and connections) are lined
up by a barrier and run the two changes at once, round after round:

* approve / delete of one Draft
* approve / void of one Draft (the void is refused unless the approval came first)
* approve all / regenerate of a period's Drafts
* push / push of the same outbox entries
* void / push of one approved statement (its entry, and the credit note's)

After each round, and at the end (after a last push), the invariants must hold:
invoice numbers unique and gapless, no numbered statement deleted, no outbox entry
without its statement, every outbox entry delivered exactly once. The test prints how
many races ran and how many invariant violations (and unexpected errors) it saw.
"""

from __future__ import annotations

import multiprocessing
import shutil
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from connector.config.settings import DaemonSettings
from connector.pipeline.build.build import BuildError, delete_draft, generate
from connector.pipeline.ingest.ingest import ingest
from connector.pipeline.publish.publish import push
from connector.pipeline.review.approve import ApprovalError, approve, find_statements
from connector.pipeline.review.lifecycle import LifecycleError
from connector.pipeline.review.void import void
from connector.runtime.runtime import open_runtime
from connector.storage import models as m
from tests.conftest import REPO
from tests.pipeline.conftest import CUR
from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER
from tests.pipeline.test_outbox_claim import TENANT, add_drafts, deliveries, use_ledger_sink

ROUNDS = 10
REGENERATE_ROUNDS = 4
REFUSALS = (ApprovalError, BuildError, LifecycleError)


def _delete(runtime, statement_id: str) -> str:  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        (statement,) = find_statements(session, TENANT, [statement_id])
        delete_draft(session, TENANT, statement, "racer")
    return "deleted"


OPS = {
    "approve": lambda rt, target: approve(rt, TENANT, [target], "racer") and "approved",
    "approve-all": lambda rt, _: f"approved {len(approve(rt, TENANT, None, 'racer', 'aws'))}",
    "delete": _delete,
    "void": lambda rt, target: void(rt, TENANT, target, "racer", "race") and "voided",
    "regenerate": lambda rt, _: (
        "generated " + str(len(generate(rt, TENANT, "aws", OCTOBER, today=AFTER_CLOSE).generated))
    ),
    "push": lambda rt, _: f"pushed {len(push(rt, TENANT))}",
}


def _racer(settings: dict, ledger: str, orders, results, barrier) -> None:  # type: ignore[no-untyped-def]
    """One process: for each order, wait at the barrier for the other racer, then run it."""
    runtime = open_runtime(DaemonSettings(**settings))
    use_ledger_sink(runtime, Path(ledger))
    while (order := orders.get()) is not None:
        op, target = order
        barrier.wait(timeout=60)
        try:
            outcome = OPS[op](runtime, target)
        except REFUSALS as exc:
            outcome = f"refused: {exc}"
        except Exception as exc:  # a deadlock, a stale row: an error, not a refusal
            outcome = f"ERROR {type(exc).__name__}: {exc}"
        results.put((op, outcome))
    runtime.db.dispose()


class Referee:
    """Runs the rounds and keeps the score: races, violations, unexpected errors."""

    def __init__(self, runtime, ledger: Path, racers) -> None:  # type: ignore[no-untyped-def]
        self.runtime, self.ledger, self.racers = runtime, ledger, racers
        self.races, self.violations, self.errors = Counter(), [], []

    def race(self, pair: str, first: tuple[str, str | None], second: tuple[str, str | None]):  # type: ignore[no-untyped-def]
        (orders_a, results_a), (orders_b, results_b) = self.racers
        orders_a.put(first)
        orders_b.put(second)
        outcomes = {first[0]: results_a.get(timeout=120)[1]}
        outcomes[second[0] + ("'" if second[0] == first[0] else "")] = results_b.get(timeout=120)[1]
        self.races[pair] += 1
        self.errors += [f"{pair}: {o}" for o in outcomes.values() if o.startswith("ERROR")]
        self.check(pair)
        return outcomes

    def expect(self, pair: str, ok: bool, what: str) -> None:
        if not ok:
            self.violations.append(f"{pair}: {what}")

    def check(self, pair: str) -> None:
        """The invariants that hold after every round."""
        with self.runtime.db.transaction() as session:
            counter = session.get(m.Tenant, TENANT).next_invoice_number
            numbers = list(session.scalars(select(m.Statement.number).where(
                m.Statement.number.is_not(None))))  # fmt: skip
            statement_ids = set(session.scalars(select(m.Statement.id)))
            outbox = list(session.scalars(select(m.OutboxEntry.statement_id)))
            approved = set(session.scalars(select(m.AuditEntry.subject).where(
                m.AuditEntry.action == "statement.approve")))  # fmt: skip
            deleted = set(session.scalars(select(m.AuditEntry.subject).where(
                m.AuditEntry.action == "statement.delete")))  # fmt: skip
        wanted = [f"ACME-{n:05d}" for n in range(1001, counter)]
        self.expect(pair, len(numbers) == len(set(numbers)), "duplicate invoice numbers")
        self.expect(pair, sorted(numbers) == wanted, f"numbers not gapless: {sorted(numbers)}")
        self.expect(pair, not approved & deleted, f"approved then deleted: {approved & deleted}")
        self.expect(pair, set(outbox) <= statement_ids, "outbox entry without its statement")
        self.expect(pair, len(outbox) == len(set(outbox)), "two outbox entries, one statement")
        twice = [i for i, n in deliveries(self.ledger).items() if n > 1]
        self.expect(pair, not twice, f"delivered more than once: {twice}")


def _status(runtime, statement_id: str) -> str | None:  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        statement = session.get(m.Statement, statement_id)
        return None if statement is None else statement.status


def test_every_pair_of_state_changes_raced_keeps_the_invariants(
    postgres_url: str, tmp_path: Path
) -> None:
    tenants = tmp_path / "tenants"
    shutil.copytree(REPO / "config/tenants", tenants)
    text = (tenants / "acme.yaml").read_text()
    (tenants / "acme.yaml").write_text(
        text.replace("../../connector/demo_data/aws", str(CUR.parent))
    )
    settings = {"database_url": postgres_url, "tenants_dir": tenants,
                "output_dir": tmp_path / "out", "build_workers": 1}  # fmt: skip
    ledger = tmp_path / "ledger.txt"
    runtime = open_runtime(DaemonSettings(**settings))
    use_ledger_sink(runtime, ledger)
    ingest(runtime, TENANT, "aws")

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    racers = [(context.Queue(), context.Queue()) for _ in range(2)]
    processes = [
        context.Process(target=_racer, args=(settings, str(ledger), orders, results, barrier))
        for orders, results in racers
    ]
    for process in processes:
        process.start()
    referee = Referee(runtime, ledger, racers)
    try:
        # approve all / regenerate: the period's Drafts approved, or replaced by new
        # revisions (then approved). Each round starts from fresh Drafts: the previous
        # round's statements are voided, so the period is built again as a new part.
        for _ in range(REGENERATE_ROUNDS):
            with runtime.db.transaction() as session:
                open_ = list(session.scalars(select(m.Statement.id).where(
                    m.Statement.status == "Open", m.Statement.kind == "usage",
                    m.Statement.period_start == OCTOBER.start)))  # fmt: skip
            for statement_id in open_:
                void(runtime, TENANT, statement_id, "referee", "next round")
            generate(runtime, TENANT, "aws", OCTOBER, today=AFTER_CLOSE)
            referee.race("approve-all/regenerate", ("approve-all", None), ("regenerate", None))
            with runtime.db.transaction() as session:
                drafts = session.scalars(select(m.Statement.id).where(
                    m.Statement.status == "Draft")).all()  # fmt: skip
            if drafts:  # regenerate won: its new Drafts are approved as usual
                approve(runtime, TENANT, None, "referee", "aws")

        # approve / delete of one Draft: exactly one of them wins.
        for draft in add_drafts(runtime, ROUNDS, first_year=2000):
            outcomes = referee.race("approve/delete", ("approve", draft), ("delete", draft))
            won = [op for op, o in outcomes.items() if o in ("approved", "deleted")]
            status = _status(runtime, draft)
            referee.expect("approve/delete", len(won) == 1, f"winners {outcomes}")
            referee.expect("approve/delete", status in (None, "Open"), f"status {status}")
            referee.expect("approve/delete", (status is None) == (won == ["delete"]),
                           f"{status} after {outcomes}")  # fmt: skip

        # approve / void of one Draft: a void wins only after the approval.
        for draft in add_drafts(runtime, ROUNDS, first_year=2001):
            outcomes = referee.race("approve/void", ("approve", draft), ("void", draft))
            status = _status(runtime, draft)
            referee.expect("approve/void", outcomes["approve"] == "approved", str(outcomes))
            wanted = "Void" if outcomes["void"] == "voided" else "Open"
            referee.expect("approve/void", status == wanted, f"{status} after {outcomes}")

        # push / push: five fresh entries each round, each to reach the ERP once.
        for year in range(2002, 2002 + ROUNDS):
            approve(runtime, TENANT, add_drafts(runtime, 5, first_year=year), "referee")
            referee.race("push/push", ("push", None), ("push", None))

        # void / push of one approved statement.
        for draft in add_drafts(runtime, ROUNDS, first_year=2020):
            approve(runtime, TENANT, [draft], "referee")
            referee.race("void/push", ("void", draft), ("push", None))
    finally:
        for orders, _ in racers:
            orders.put(None)
        for process in processes:
            process.join(timeout=30)

    # Everything left is delivered by one last push, and then each entry was sent once.
    push(runtime, TENANT)
    referee.check("final")
    with runtime.db.transaction() as session:
        outbox = Counter(session.scalars(select(m.OutboxEntry.state)))
        queued = set(session.scalars(select(m.OutboxEntry.statement_id)))
    sent = deliveries(ledger)
    referee.expect("final", outbox == {"delivered": len(queued)}, f"outbox {outbox}")
    referee.expect("final", set(sent) == queued and set(sent.values()) == {1}, "deliveries")
    runtime.db.dispose()

    races = sum(referee.races.values())
    print(f"\nraces run: {races} {dict(referee.races)}; invariant violations: "
          f"{len(referee.violations)}; unexpected errors: {len(referee.errors)}")  # fmt: skip
    assert [p.exitcode for p in processes] == [0, 0]
    assert races == REGENERATE_ROUNDS + 4 * ROUNDS
    assert referee.violations == []
    assert referee.errors == []


@pytest.fixture(autouse=True)
def _no_forgotten_racers():  # type: ignore[no-untyped-def]
    yield
    for child in multiprocessing.active_children():
        child.kill()
