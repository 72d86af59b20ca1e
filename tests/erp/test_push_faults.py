"""Approved statements reach Xero exactly once through faults and crashes of the pusher.

Both tests push through the core outbox (``connector.pipeline.publish.publish.push``) and the
real Xero sink to a stateful simulated Xero, then check Xero's side against ours: one
invoice per statement number, its total (computed by the simulator from the lines sent,
the way Xero computes it) equal to the statement's total in our database.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import responses
from connector_erp_xero.limits import RateLimiter
from sqlalchemy import update

from connector.contracts import PluginError
from connector.pipeline.publish import publish
from connector.pipeline.publish.publish import push
from connector.storage import models as m
from tests.conftest import REPO
from tests.erp.fake_clock import FakeClock
from tests.erp.push_setup import (
    TENANT,
    approve_next,
    build_world,
    open_bulk_runtime,
    our_totals,
    outbox_states,
    use_sim_sink,
)
from tests.erp.push_sim import FAULT_KINDS, FaultyXero, XeroServer


def _assert_each_invoice_once_with_our_total(xero, ours: dict) -> None:
    held = Counter(invoice["InvoiceNumber"] for invoice in xero.invoices.values())
    assert sorted(held) == sorted(ours), "Xero holds other invoice numbers than ours"
    assert {count for count in held.values()} == {1}, [n for n, c in held.items() if c > 1]
    wrong = {
        invoice["InvoiceNumber"]: (invoice["Total"], ours[invoice["InvoiceNumber"]])
        for invoice in xero.invoices.values()
        if invoice["Total"] != ours[invoice["InvoiceNumber"]]
    }
    assert wrong == {}


@pytest.mark.parametrize("max_attempts", [5, 3])
def test_500_statements_through_20_percent_faults_land_once_each_with_our_totals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, max_attempts: int
) -> None:
    """Xero answers a fifth of all calls (seeded) with 429 + Retry-After, 500, 503, a
    timeout after committing, or a dropped connection. Pushing until nothing is due
    (an hour passing between pushes, so failed entries come due) leaves every one of
    the 500 statements delivered, none dead, and Xero holding each invoice once with
    its PDF attached once. With the default 5 tries per call the sink's own retries
    absorb the faults; with 3, some calls give up and the outbox retries their
    statements on a later push (found in Xero, not created again)."""
    database_url, token_key = build_world(tmp_path, 500)
    runtime = open_bulk_runtime(tmp_path, database_url, token_key)
    runtime.tenants[TENANT].erp.settings["max_attempts"] = max_attempts
    clock = FakeClock()
    use_sim_sink(runtime, RateLimiter(clock=clock, sleep=clock.sleep), clock.sleep)
    now = [dt.datetime.now(dt.UTC)]
    monkeypatch.setattr(publish, "utcnow", lambda: now[0])
    rounds = []
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        xero = FaultyXero(mock, rate=0.2, seed=20261121)
        for _ in range(30):
            try:
                outcomes = push(runtime, TENANT)
            except PluginError as exc:
                # The first push's preflight gave up: core's push raises and leaves the
                # entries in flight, due again once the lease has run out.
                outcomes = [exc]
            if not outcomes:
                break
            rounds.append(
                Counter(getattr(outcome, "state", "preflight raised") for outcome in outcomes)
            )
            now[0] += dt.timedelta(hours=1)
    ours = our_totals(runtime)
    states = outbox_states(runtime)
    runtime.db.dispose()

    assert len(ours) == 500 and rounds and not outcomes
    assert states == {"delivered": 500}, rounds
    if max_attempts == 3:  # the outbox, not only the transport, had to retry
        assert len(rounds) > 1 and any(r["failed"] for r in rounds), rounds
    _assert_each_invoice_once_with_our_total(xero, ours)
    assert sorted(len(files) for files in xero.attachments.values()) == [1] * 500
    # The faults really happened, of every kind, at about the rate asked for.
    assert set(xero.injected) == set(FAULT_KINDS)
    share = sum(xero.injected.values()) / len(xero.calls)
    assert 0.15 <= share <= 0.25, (share, xero.injected)
    # Retry-After was honoured on the fake clock: nobody really waited.
    assert 3.0 in clock.sleeps


KILLS = 20
STATEMENTS = 100
WAVE = 20  # statements approved every WAVE_EVERY kills, so that most kills find work
WAVE_EVERY = 4


def _age_leases(runtime) -> None:  # type: ignore[no-untyped-def]
    """Let time pass for the outbox: a killed pusher's lease runs out, failures come due."""
    past = dt.datetime.now(dt.UTC) - publish.IN_FLIGHT_LEASE - dt.timedelta(minutes=1)
    with runtime.db.transaction() as session:
        session.execute(
            update(m.OutboxEntry)
            .where(m.OutboxEntry.state.in_(("in_flight", "failed")))
            .values(updated_at=past, next_attempt_at=past)
            .execution_options(synchronize_session=False)
        )


def test_a_pusher_killed_20_times_at_random_points_leaves_each_invoice_once(
    tmp_path: Path,
) -> None:
    """A subprocess pushes to a simulated Xero on loopback (every call takes 100 ms) and
    is SIGKILLed at a random moment, 20 times, each time restarted once its lease has
    run out; 20 more of the 100 statements are approved every 4 kills. A last push
    that runs to its end leaves every entry delivered and Xero holding each invoice
    once with our total and one PDF."""
    server = XeroServer(latency=0.1)
    try:
        database_url, token_key = build_world(
            tmp_path, STATEMENTS, base_url=server.base_url, approved=0
        )
        env = {**os.environ, "CONNECTOR_TOKEN_KEY": token_key, "PYTHONPATH": str(REPO)}
        command = [sys.executable, "-m", "tests.erp.push_worker", str(tmp_path), database_url]
        runtime = open_bulk_runtime(tmp_path, database_url, token_key)
        rng = random.Random(4242)
        interrupted = 0
        for kill in range(KILLS):
            if kill % WAVE_EVERY == 0:
                assert approve_next(runtime, WAVE) == WAVE
            _age_leases(runtime)
            worker = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE)
            assert worker.stdout is not None and worker.stdout.readline() == b"ready\n"
            time.sleep(rng.uniform(0.0, 2.0))
            interrupted += worker.poll() is None and outbox_states(runtime) != {
                "delivered": WAVE * (kill // WAVE_EVERY + 1)
            }
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
        _age_leases(runtime)
        final = subprocess.run(command, cwd=REPO, env=env, capture_output=True, timeout=60)
        assert final.returncode == 0, final.stderr.decode()[-2000:]
        ours, states = our_totals(runtime), outbox_states(runtime)
        runtime.db.dispose()
    finally:
        server.close()

    # Kills hit pushes with work left (others came after the wave was delivered).
    assert interrupted >= KILLS // 4, interrupted
    assert len(ours) == STATEMENTS
    assert states == {"delivered": STATEMENTS}
    _assert_each_invoice_once_with_our_total(server.xero, ours)
    assert sorted(len(files) for files in server.xero.attachments.values()) == [1] * STATEMENTS
