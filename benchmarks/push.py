"""Push benchmark: 3,000 approved statements to a simulated Xero, limits scaled to seconds.

Setup (not timed): a tenant of 3,000 customers whose sink is the real Xero sink,
statements generated and approved by the core (``tests/erp/push_setup.py``), and the
stateful simulated Xero (``tests/erp/xero_simulator.py``) served over loopback HTTP
(``tests/erp/push_sim.py``) with Xero's limits, a minute made a second: 60 calls per
second (429 with Retry-After past it) and 5 calls at once (429 past it).

Timed: the core's ``push`` until nothing is due, through the outbox and the real sink,
whose ``RateLimiter`` gets the same scaled clock (its 60-per-minute window becomes 60
per second; Retry-After waits shrink alike). The last line is JSON with invoices per
create call, the achieved call rate as a share of the 60/s ceiling, the seconds taken
and the 429s that reached the outbox as failures. Targets: at least 40 invoices per
create call, at least 0.9 of the ceiling, no 429 reaching the outbox.

    .venv/bin/python benchmarks/push.py [--statements 3000] [--no-pdf]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector_erp_xero.limits import CONCURRENT, PER_DAY, PER_MINUTE, RateLimiter  # noqa: E402

from connector.pipeline.publish.publish import push  # noqa: E402
from tests.erp.push_setup import (  # noqa: E402
    TENANT,
    build_world,
    open_bulk_runtime,
    our_totals,
    use_sim_sink,
)
from tests.erp.push_sim import XeroServer  # noqa: E402

#: Simulated seconds per real second: Xero's minute window passes in one second.
SCALE = 60.0


def scaled_clock() -> float:
    """Monotonic time in simulated seconds."""
    return time.monotonic() * SCALE


def scaled_sleep(seconds: float) -> None:
    """Wait ``seconds`` simulated seconds."""
    time.sleep(seconds / SCALE)


def run(statements: int, attach_pdf: bool) -> dict[str, object]:
    """Set up, push until nothing is due, and measure; returns the JSON figures."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server = XeroServer(concurrent=CONCURRENT)
        server.xero.clock, server.xero.per_minute = scaled_clock, PER_MINUTE
        started = time.perf_counter()
        database_url, token_key = build_world(
            folder, statements, base_url=server.base_url, attach_pdf=attach_pdf
        )
        runtime = open_bulk_runtime(folder, database_url, token_key)
        limiter = RateLimiter(
            PER_MINUTE, PER_DAY, CONCURRENT, clock=scaled_clock, sleep=scaled_sleep
        )
        use_sim_sink(runtime, limiter, scaled_sleep)
        print(f"setup {time.perf_counter() - started:6.2f}s", file=sys.stderr)

        started = time.perf_counter()
        states: Counter[str] = Counter()
        throttled_failures = 0
        pushes = 0
        while outcomes := push(runtime, TENANT):
            pushes += 1
            states.update(outcome.state for outcome in outcomes)
            throttled_failures += sum(
                outcome.state != "delivered" and "429" in outcome.message for outcome in outcomes
            )
        seconds = time.perf_counter() - started
        ours = our_totals(runtime)
        runtime.db.dispose()
        server.close()

    xero = server.xero
    accepted = len(xero.calls) - xero.throttled
    creates = len(xero.api_calls("PUT", "/Invoices"))
    held = Counter(invoice["InvoiceNumber"] for invoice in xero.invoices.values())
    wrong_totals = sum(
        invoice["Total"] != ours.get(invoice["InvoiceNumber"]) for invoice in xero.invoices.values()
    )
    by_kind = Counter(f"{call.method} {call.path.split('/')[1]}" for call in xero.calls)
    print(f"calls by kind: {dict(by_kind)}", file=sys.stderr)
    return {
        "statements": statements,
        "attach_pdf": attach_pdf,
        "pushes": pushes,
        "outbox_states": dict(states),
        "invoices_in_xero": len(xero.invoices),
        "duplicate_invoices": sum(count - 1 for count in held.values()),
        "totals_differing": wrong_totals,
        "create_calls": creates,
        "invoices_per_create_call": round(len(xero.invoices) / max(creates, 1), 1),
        "api_calls": accepted,
        "calls_per_second": round(accepted / seconds, 2),
        "ceiling_calls_per_second": PER_MINUTE * SCALE / 60,
        "share_of_ceiling": round(accepted / seconds / (PER_MINUTE * SCALE / 60), 4),
        "simulator_429_rate": xero.throttled,
        "simulator_429_concurrency": server.concurrency_429,
        "outbox_failures_from_429": throttled_failures,
        "seconds": round(seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=3_000)
    parser.add_argument("--no-pdf", action="store_true", help="do not attach statement PDFs")
    args = parser.parse_args()
    print(json.dumps(run(args.statements, not args.no_pdf)))


if __name__ == "__main__":
    main()
