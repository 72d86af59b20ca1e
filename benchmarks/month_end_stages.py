"""The month-end stages, each run as its own process so its peak RSS is its own.

    .venv/bin/python benchmarks/month_end_stages.py STAGE --work DIR --database-url URL

``setup`` (not a stage of the month end) writes the provider files and the tenant file,
grants credits and stores the Xero token. The stages call the same functions the
daemon's units and the ``connector`` commands call:

* ``ingest``: ``pipeline.ingest.ingest`` per provider (items: provider rows read);
* ``close``: ``pipeline.close.detect_close`` per provider (items: periods closed);
* ``build``: ``pipeline.build.build.generate`` per provider, with the daemon's build
  workers (items: statements);
* ``approve``: ``pipeline.review.approve.approve`` of every Draft (items: statements);
* ``render``: ``pipeline.publish.export_statements`` as PDF and CSV, what ``connector
  statements export`` runs (items: documents written);
* ``push-csv``: the tenant's sink switched to the ``csv`` sink (Xero's import template),
  given every statement's document in chunks of 500 (items: statements);
* ``push-xero``: ``pipeline.publish.push`` until nothing is due, through the outbox and
  the real Xero sink, to the stateful Xero simulator over loopback with Xero's limits a
  minute made a second, as ``benchmarks/push.py`` does, serving from a process of its
  own (``xero_process``: what Xero holds is not the pusher's memory); PDFs are not
  attached here (the render stage renders them; the two-daemon run attaches them)
  (items: statements);
* ``verify``: numbering, outbox and both sinks' outputs checked for gaps and duplicates.

Each prints one JSON line: stage, seconds, items, items per second, peak RSS (this
process and, for the build, its largest worker), the floor where one exists, and the
load average at its start and end.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import resource
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cryptography.fernet import Fernet  # noqa: E402
from month_end_floors import (  # noqa: E402
    bare_insert_seconds,
    bare_pdf_seconds_each,
    bare_query_seconds,
)
from month_end_synth import (  # noqa: E402
    PERIOD,
    PROVIDERS,
    TENANT,
    Size,
    tenant_yaml,
    write_provider_files,
)
from sqlalchemy import func, select  # noqa: E402

from connector.config.settings import DaemonSettings  # noqa: E402
from connector.domain.periods import parse_period  # noqa: E402
from connector.pipeline import credits  # noqa: E402
from connector.pipeline.build.build import generate  # noqa: E402
from connector.pipeline.build.documents import CHUNK, load_documents  # noqa: E402
from connector.pipeline.close.close import detect_close  # noqa: E402
from connector.pipeline.ingest.ingest import ingest  # noqa: E402
from connector.pipeline.publish.erp import make_sink, token_store  # noqa: E402
from connector.pipeline.publish.export import export_statements  # noqa: E402
from connector.pipeline.publish.publish import push  # noqa: E402
from connector.pipeline.review.approve import approve  # noqa: E402
from connector.runtime.runtime import Runtime, open_runtime  # noqa: E402
from connector.runtime.tenants import sync_tenant  # noqa: E402
from connector.storage import models as m  # noqa: E402

TODAY = dt.date(2026, 11, 6)
#: Exit status of a stage that could not start (a plugin did not load): nothing was done.
NOT_STARTED = 75
PLACEHOLDER_URL = "http://127.0.0.1:9"  # the simulator's port is known only when it runs


def load_average() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def peak_rss_mib() -> float:
    """This process's peak RSS, or its largest child's (build workers) if larger."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


def open_world(work: Path, url: str) -> Runtime:
    """A runtime over the benchmark's tenant file and database."""
    return open_runtime(
        DaemonSettings(
            database_url=url,
            tenants_dir=work / "tenants",
            output_dir=work / "out",
            token_key=(work / "token-key").read_text(),
        )
    )


def setup(
    work: Path,
    url: str,
    scale: float,
    data: Path,
    *,
    daemon: bool = False,
    attach_pdf: bool = False,
    base_url: str = PLACEHOLDER_URL,
) -> dict:
    """Provider files (cached in ``data``), the tenant file, credit grants, the Xero token.

    ``daemon``: the tenant auto-approves (the daemon runs); ``attach_pdf``: the Xero
    sink renders each statement's PDF and attaches it to the invoice.
    """
    from tests.erp.push_setup import TOKEN_KEY, valid_token
    from tests.erp.xero_simulator import CLIENT_SECRET

    size = Size(scale)
    started = time.perf_counter()
    write_provider_files(data, size)
    synth = time.perf_counter() - started
    (work / "tenants").mkdir(parents=True, exist_ok=True)
    (work / "xero-client-secret").write_text(CLIENT_SECRET)
    (work / "token-key").write_text(Fernet.generate_key().decode())
    (work / "tenants" / f"{TENANT}.yaml").write_text(
        tenant_yaml(
            size,
            data,
            work / "xero-client-secret",
            base_url,
            attach_pdf=attach_pdf,
            auto_approve=daemon,
        )
    )
    runtime = open_world(work, url)
    rng = random.Random(20261106)
    granted = 0
    with runtime.db.transaction() as session:
        sync_tenant(session, runtime.tenant(TENANT))
        for i, customer in enumerate(runtime.tenant(TENANT).customers):
            if i % 5 == 0:  # small grants get used up; every 50th outlasts all three bills
                cents = 25_000_000 if i % 50 == 0 else rng.randrange(1, 30_000)
                credits.add_grant(
                    session,
                    TENANT,
                    customer.id,
                    Decimal(cents).scaleb(-2),
                    "USD",
                    "month-end promo",
                    "bench",
                )
                granted += 1
    store = token_store(runtime, TENANT)
    assert store is not None
    with store.lock(TOKEN_KEY):
        store.save(TOKEN_KEY, valid_token())
    runtime.db.dispose()
    return {
        "customers": size.customers,
        "rows": {p: size.rows(p) for p in PROVIDERS},
        "credit_grants": granted,
        "synth_seconds": round(synth, 2),
    }


def _ingest(runtime: Runtime, work: Path) -> tuple[int, dict]:
    size_rows = json.loads((work / "setup.json").read_text())["rows"]
    stored, per = 0, {}
    for provider in PROVIDERS:
        started = time.perf_counter()
        results = ingest(runtime, TENANT, provider, today=TODAY)
        per[provider] = round(time.perf_counter() - started, 2)
        stored += sum(r.rows for r in results)
    return sum(size_rows.values()), {"provider_seconds": per, "charges_stored": stored}


def _ingest_floor(runtime: Runtime, work: Path, line: dict) -> dict:
    data = Path(json.loads((work / "setup.json").read_text())["data"])
    files = {p: data / p / f"{p}-{PERIOD}.csv.gz" for p in PROVIDERS}
    query = sum(bare_query_seconds(p, f) for p, f in files.items())
    insert = bare_insert_seconds(runtime.db.engine, line["charges_stored"])
    return {
        "floor_seconds": round(query + insert, 2),
        "floor": "bare DuckDB GROUP BY + bare insert",
        "floor_query_seconds": round(query, 2),
        "floor_insert_seconds": round(insert, 2),
    }


def _close(runtime: Runtime, work: Path) -> tuple[int, dict]:
    period = parse_period(PERIOD)
    reasons = {p: detect_close(runtime, TENANT, p, period, TODAY) for p in PROVIDERS}
    return sum(r is not None for r in reasons.values()), {"reasons": reasons}


def _build(runtime: Runtime, work: Path) -> tuple[int, dict]:
    built, skipped, failed, unassigned = 0, 0, 0, 0
    for provider in PROVIDERS:
        report = generate(runtime, TENANT, provider, parse_period(PERIOD), today=TODAY)
        built += len(report.generated)
        skipped, failed = skipped + len(report.skipped), failed + len(report.failed)
        unassigned += len(report.unassigned)
    return built, {"skipped": skipped, "failed": failed, "unassigned_accounts": unassigned}


def _approve(runtime: Runtime, work: Path) -> tuple[int, dict]:
    return len(approve(runtime, TENANT, None, actor="bench")), {}


def _statement_ids(runtime: Runtime) -> list[str]:
    with runtime.db.transaction() as session:
        return list(
            session.scalars(
                select(m.Statement.id)
                .where(m.Statement.tenant_id == TENANT)
                .order_by(m.Statement.number)
            )
        )


def _render(runtime: Runtime, work: Path) -> tuple[int, dict]:
    ids = _statement_ids(runtime)
    done = export_statements(runtime, TENANT, ids, ["pdf", "csv"], work / "documents")
    pdfs = sum(path.suffix == ".pdf" for path in done.written)
    return len(done.written), {"pdfs": pdfs, "failed": len(done.failed)}


def _render_floor(runtime: Runtime, work: Path, line: dict) -> dict:
    floor = bare_pdf_seconds_each(min(50, line["pdfs"])) * line["pdfs"]
    return {"floor_seconds": round(floor, 2), "floor": "bare reportlab two-page PDF x PDFs"}


def _push_csv(runtime: Runtime, work: Path) -> tuple[int, dict]:
    config = runtime.tenant(TENANT)
    config.erp.sink = "csv"
    config.erp.settings = {"template": "xero", "output_dir": str(work / "csv-sink")}
    sink = make_sink(runtime, TENANT)
    ids, ok = _statement_ids(runtime), 0
    for start in range(0, len(ids), CHUNK):
        with runtime.db.transaction() as session:
            documents = load_documents(session, config, ids[start : start + CHUNK])
        ok += sum(r.ok for r in sink.push(documents))
    return ok, {"files": len(list((work / "csv-sink").glob("*.csv")))}


def _push_xero(runtime: Runtime, work: Path) -> tuple[int, dict]:
    from connector_erp_xero.limits import CONCURRENT, PER_DAY, PER_MINUTE, RateLimiter
    from push import SCALE, scaled_clock, scaled_sleep
    from xero_process import XeroProcess

    from tests.erp.push_setup import SIM_SINK, sim_sink_class

    limiter = RateLimiter(PER_MINUTE, PER_DAY, CONCURRENT, clock=scaled_clock, sleep=scaled_sleep)
    runtime.plugins.sinks.add(sim_sink_class(limiter, scaled_sleep))
    runtime.tenant(TENANT).erp.sink = SIM_SINK
    states: Counter[str] = Counter()
    with XeroProcess() as xero:
        runtime.tenant(TENANT).erp.settings["base_url"] = xero.base_url
        started = time.perf_counter()
        while outcomes := push(runtime, TENANT):
            states.update(o.state for o in outcomes)
        seconds = time.perf_counter() - started
    held = xero.held
    (work / "xero-invoices.txt").write_text("\n".join(held["numbers"]) + "\n")
    accepted = held["calls"] - held["throttled"]
    ceiling = PER_MINUTE * SCALE / 60
    return states["delivered"], {
        "outbox_states": dict(states),
        "invoices_in_xero": len(held["numbers"]),
        "api_calls": accepted,
        "create_calls": held["create_calls"],
        "share_of_ceiling": round(accepted / seconds / ceiling, 3),
        "floor_seconds": round(accepted / ceiling, 2),
        "floor": "API calls at Xero's ceiling",
        "simulator_429": held["throttled"] + held["concurrency_429"],
        "simulator": "its own process (benchmarks/xero_process.py)",
    }


def csv_sink_numbers(folder: Path) -> Counter[str]:
    """How many import files hold each invoice number (a file lists it once per line)."""
    held: Counter[str] = Counter()
    for path in folder.glob("*.csv"):
        with path.open(newline="", encoding="utf-8-sig") as handle:
            held.update({row["*InvoiceNumber"] for row in csv.DictReader(handle)})
    return held


def verify(runtime: Runtime, work: Path, sinks: dict[str, Counter[str]]) -> dict:
    """Gaps and duplicates in the numbering, and in what each sink holds."""
    with runtime.db.transaction() as session:
        numbers = Counter(
            session.scalars(select(m.Statement.number).where(m.Statement.tenant_id == TENANT))
        )
        statements = sum(numbers.values())
        outbox = dict(
            session.execute(
                select(m.OutboxEntry.state, func.count()).group_by(m.OutboxEntry.state)
            ).all()
        )
    issued = {n for n in numbers if n is not None}
    values = sorted(int(n.split("-")[1]) for n in issued)
    gaps = (values[-1] - len(values) if values else 0) + numbers.get(None, 0)
    duplicates = sum(c - 1 for n, c in numbers.items() if n is not None)
    for held in sinks.values():
        duplicates += sum(c - 1 for c in held.values())
        gaps += len(issued - set(held))
    return {
        "statements": statements,
        "numbered": len(issued),
        "outbox": outbox,
        **{f"in_{name}": len(held) for name, held in sinks.items()},
        "duplicate_invoices": duplicates,
        "number_gaps": gaps,
    }


def _verify(runtime: Runtime, work: Path) -> tuple[int, dict]:
    xero = Counter((work / "xero-invoices.txt").read_text().split())
    found = verify(runtime, work, {"xero": xero, "csv_sink": csv_sink_numbers(work / "csv-sink")})
    return found["statements"], found


STAGES = {
    "ingest": _ingest,
    "close": _close,
    "build": _build,
    "approve": _approve,
    "render": _render,
    "push-csv": _push_csv,
    "push-xero": _push_xero,
    "verify": _verify,
}

FLOORS = {"ingest": _ingest_floor, "render": _render_floor}


def run_stage(stage: str, work: Path, url: str) -> dict:
    """Open the runtime (not timed), run ``stage`` timed, then its floor; its JSON line."""
    load_start = load_average()
    runtime = open_world(work, url)
    try:
        for key, provider in runtime.tenant(TENANT).providers.items():
            runtime.plugins.providers.get(provider.plugin or key)
    except Exception as exc:  # noqa: BLE001 (said, and the caller tries again)
        print(f"not started: {exc}", file=sys.stderr)
        sys.exit(NOT_STARTED)
    started = time.perf_counter()
    items, extra = STAGES[stage](runtime, work)
    seconds = time.perf_counter() - started
    line = {
        "stage": stage,
        "seconds": round(seconds, 3),
        "items": items,
        "per_second": round(items / seconds, 1) if seconds else None,
        "peak_rss_mib": peak_rss_mib(),
        **extra,
    }
    # After the stage's peak RSS is read: a floor may hold its rows in memory.
    if stage in FLOORS:
        line.update(FLOORS[stage](runtime, work, line))
    runtime.db.dispose()
    if "floor_seconds" in line:
        line["ratio_to_floor"] = round(seconds / max(line["floor_seconds"], 1e-9), 2)
    return {**line, "loadavg_start": load_start, "loadavg_end": load_average()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=["setup", *STAGES])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--data", type=Path, help="where provider files are cached")
    parser.add_argument("--daemon", action="store_true", help="setup: auto-approve")
    parser.add_argument("--attach-pdf", action="store_true", help="setup: Xero gets each PDF")
    parser.add_argument("--base-url", default=PLACEHOLDER_URL)
    args = parser.parse_args()
    if args.stage == "setup":
        data = args.data or args.work / "data"
        found = setup(
            args.work,
            args.database_url,
            args.scale,
            data,
            daemon=args.daemon,
            attach_pdf=args.attach_pdf,
            base_url=args.base_url,
        )
        found["data"] = str(data)
        (args.work / "setup.json").write_text(json.dumps(found))
        print(json.dumps({"stage": "setup", **found}))
        return
    print(json.dumps(run_stage(args.stage, args.work, args.database_url)))


if __name__ == "__main__":
    main()
