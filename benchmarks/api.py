"""The billing API under load: 50 clients listing statements, then single approvals
(issue 24, "The API under load").

A tenant of 5,000 customers with one Draft statement each (five lines apiece) is stored
in PostgreSQL, in a schema of its own dropped afterwards: customers through the
tenant-file sync the daemon uses, statements by bulk inserts through the storage
models, then ``VACUUM ANALYZE`` (what autovacuum does within a minute of such a load:
without statistics the planner sorts every statement instead of reading the page from
its index). An operator key is made with ``create_key``, as ``connector api-keys
create`` does.

The API is run the way the README ("Running the API") tells operators to: ``connector
serve`` as its own process on 127.0.0.1 and a free port, with a settings file naming
the database, ``api.workers`` (``--workers``, default 2: one per core of this machine),
``api.threads`` (``--threads``, requests each works on at once, default the setting's 8)
and each worker's ``database_pool`` (``--pool-size`` 12 kept, ``--max-overflow`` 4 more
while busy, in each of a worker's two pools: 2 x 2 x 16 of PostgreSQL's 100
connections). A few seconds of listing warm every worker up before anything is measured.

Two phases, each ``--seconds`` long, from a local asyncio client (aiohttp, whose C
parser costs about 0.3 ms of CPU a request here; httpx's cost 3.5 to 4.7 ms, more than
the server's own, and on two shared cores the client was then what was measured):

* list: ``--clients`` clients at once, each asking ``GET /v1/statements?limit=50``
  for page 1, 2, ... N in turn;
* approve: ``--approve-clients`` clients each approving one Draft per request
  (``POST /v1/statements/{id}/approve``) until the time is up or the Drafts run out.

    .venv/bin/python benchmarks/api.py [--seconds 60] [--clients 50] [--approve-clients 8]
        [--statements 5000] [--workers 2] [--threads 8] [--pool-size 12] [--max-overflow 4]
        [--postgres URL]

Prints the figures, the JSON line last: ``list_p50_ms``, ``list_p99_ms``,
``list_per_second``, ``approve_per_second``, the server's CPU per request (all its
processes), the workers and pool, and the load average before and after. Targets:
``list_p99_ms`` at most 250 with 50 clients, ``approve_per_second`` at least 100.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

import aiohttp
import sqlalchemy as sa
import yaml
from serving import free_port, wait_until_up

REPO = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PAGE = 50
TENANT = "acme"


def tenant_file(folder: Path, customers: int) -> None:
    """The repository's acme tenant with ``customers`` customers like its first one."""
    source = REPO / "config/tenants/acme.yaml"
    config = yaml.safe_load(source.read_text())
    aws = config["providers"]["aws"]["settings"]
    aws["path"] = str((source.parent / aws["path"]).resolve())
    config["erp"]["settings"]["output_dir"] = str(folder / "erp")
    model = config["customers"][0]
    config["customers"] = [
        {
            **model,
            "id": f"c{n:05d}",
            "name": f"Customer {n:05d}",
            "accounts": {"aws": [f"{900000000000 + n:012d}"]},
            "erp": {"contact_name": f"Customer {n:05d}"},
        }
        for n in range(customers)
    ]
    (folder / "tenants").mkdir()
    (folder / "tenants/acme.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def seed(runtime, statements: int) -> None:  # type: ignore[no-untyped-def]
    """One Draft of five lines for each of the first ``statements`` customers."""
    from connector.runtime.tenants import sync_tenant
    from connector.storage import models as m

    config = runtime.tenant(TENANT)
    with runtime.db.transaction() as session:
        sync_tenant(session, config)
    start, end = dt.date(2026, 10, 1), dt.date(2026, 11, 1)
    rows, lines = [], []
    for customer in itertools.islice(config.customers, statements):
        ident = str(uuid.uuid4())
        rows.append(
            {
                "id": ident, "tenant_id": TENANT, "customer_id": customer.id,
                "provider": "aws", "period_start": start, "period_end": end,
                "kind": "usage", "part": 0, "status": "Draft", "revision": 1,
                "currency": "USD", "billing_currency": "USD", "exchange_rate": Decimal(1),
                "subtotal": Decimal("500.00"), "tax": Decimal("41.25"),
                "total": Decimal("541.25"), "issue_date": end,
                "due_date": end + dt.timedelta(days=30), "batch_ids": [], "options": {},
            }
        )  # fmt: skip
        lines.extend(
            {
                "statement_id": ident, "position": p, "kind": "service",
                "description": f"Amazon service {p}", "amount": Decimal("100.00"),
                "cost": Decimal("80.00"), "service_category": "Compute",
                "account_id": customer.accounts["aws"][0], "quantity": Decimal(1),
            }
            for p in range(5)
        )  # fmt: skip
    with runtime.db.transaction() as session:
        session.execute(sa.insert(m.Statement), rows)
        session.execute(sa.insert(m.StatementLine), lines)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Tally:
    """One phase's latencies and failures, from requests made by many clients at once."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.latencies: list[float] = []
        self.failures: list[str] = []

    async def timed(self, request, ok) -> None:  # type: ignore[no-untyped-def]
        """Make ``request`` (an aiohttp request context); ``ok(status, body)`` judges it."""
        began = time.perf_counter()
        try:
            async with request as answer:
                body = await answer.read()
        except aiohttp.ClientError as exc:
            self.failures.append(repr(exc))
            return
        self.latencies.append(time.perf_counter() - began)
        if not ok(answer.status, body):
            self.failures.append(f"{answer.status} {body[:200]!r}")

    async def run(self, clients) -> float:  # type: ignore[no-untyped-def]
        """Run the ``clients`` coroutines together; the seconds they took."""
        began = time.perf_counter()
        await asyncio.gather(*clients)
        elapsed = time.perf_counter() - began
        if self.failures:
            print(f"{self.what} failures (first): {self.failures[0]}", file=sys.stderr)
        return elapsed


def session(base: str, token: str, connections: int = 100) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        base,
        headers={"Authorization": f"Bearer {token}"},
        connector=aiohttp.TCPConnector(limit=connections),
        timeout=aiohttp.ClientTimeout(total=60),
    )


def a_full_page(status: int, body: bytes) -> bool:
    return status == 200 and len(json.loads(body)["statements"]) == PAGE


async def list_phase(base: str, token: str, clients: int, seconds: float, pages: int) -> dict:
    tally = Tally("list")
    stop = time.monotonic() + seconds
    async with session(base, token, clients) as client:

        async def one(number: int) -> None:
            page = number % pages
            while time.monotonic() < stop:
                params = {"limit": PAGE, "offset": page * PAGE}
                await tally.timed(client.get("/v1/statements", params=params), a_full_page)
                page = (page + 1) % pages

        elapsed = await tally.run(one(n) for n in range(clients))
    return {
        "list_requests": len(tally.latencies),
        "list_failures": len(tally.failures),
        "list_p50_ms": round(statistics.median(tally.latencies) * 1000, 1),
        "list_p99_ms": round(percentile(tally.latencies, 0.99) * 1000, 1),
        "list_per_second": round(len(tally.latencies) / elapsed, 1),
    }


async def approve_phase(
    base: str, token: str, clients: int, seconds: float, drafts: list[str]
) -> dict:
    tally = Tally("approval")
    queue = iter(drafts)
    stop = time.monotonic() + seconds
    async with session(base, token) as client:

        async def one() -> None:
            for ident in queue:
                if time.monotonic() >= stop:
                    return
                request = client.post(f"/v1/statements/{ident}/approve")
                await tally.timed(request, lambda status, _body: status == 200)

        elapsed = await tally.run(one() for _ in range(clients))
    return {
        "approvals": len(tally.latencies),
        "approve_failures": len(tally.failures),
        "approve_p50_ms": round(statistics.median(tally.latencies) * 1000, 1),
        "approve_per_second": round(len(tally.latencies) / elapsed, 1),
    }


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds used so far by process ``pid`` and its living
    children (the workers), from /proc."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += cpu_seconds(int(child))
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return total + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(args: argparse.Namespace) -> dict:
    import connector
    from connector.access.api_keys import create_key
    from connector.config.settings import load_settings
    from connector.plugins import load_plugins
    from connector.runtime.runtime import open_runtime

    schema = f"bench_api_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.postgres)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in args.postgres else "?"
    url = f"{args.postgres}{sep}options=-csearch_path%3D{schema}"
    server = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            tenant_file(folder, args.statements)
            settings_file = folder / "connector.yaml"
            settings_file.write_text(
                yaml.safe_dump(
                    {
                        "database_url": url,
                        "tenants_dir": "tenants",
                        "output_dir": "out",
                        "log_level": "WARNING",
                        "log_format": "text",
                        "api": {"workers": args.workers, "threads": args.threads},
                        "database_pool": {"size": args.pool_size, "overflow": args.max_overflow},
                    }
                )
            )
            began = time.perf_counter()
            runtime = open_runtime(load_settings(settings_file), load_plugins())
            seed(runtime, args.statements)
            token = create_key(runtime, TENANT, "operator", label="benchmark").token
            with runtime.db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.execute(sa.text("VACUUM ANALYZE statements, statement_lines"))
            seeded = time.perf_counter() - began
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            server = subprocess.Popen(
                [sys.executable, "-m", "connector", "--config", str(settings_file),
                 "serve", "--port", str(port)],
                env={**os.environ, "PYTHONPATH": str(Path(connector.__file__).parents[1])},
                stdout=subprocess.DEVNULL,
                stderr=(folder / "serve.log").open("wb"),
            )  # fmt: skip
            wait_until_up(base, server)
            pages = args.statements // PAGE
            asyncio.run(list_phase(base, token, args.clients, 3.0, pages))  # warm-up
            load_before = [round(load, 2) for load in os.getloadavg()]
            cpu = cpu_seconds(server.pid)
            figures = asyncio.run(list_phase(base, token, args.clients, args.seconds, pages))
            used = cpu_seconds(server.pid) - cpu
            figures["server_cpu_ms_per_list"] = round(used * 1000 / figures["list_requests"], 2)
            with runtime.db.transaction() as session:
                from connector.storage import models as m

                drafts = list(
                    session.scalars(
                        sa.select(m.Statement.id)
                        .where(m.Statement.status == "Draft")
                        .order_by(m.Statement.customer_id)
                    )
                )
            cpu = cpu_seconds(server.pid)
            figures |= asyncio.run(
                approve_phase(base, token, args.approve_clients, args.seconds, drafts)
            )
            used = cpu_seconds(server.pid) - cpu
            figures["server_cpu_ms_per_approve"] = round(used * 1000 / figures["approvals"], 2)
            runtime.db.engine.dispose()
            problems = (folder / "serve.log").read_text(errors="replace").strip()
            if problems:
                print(f"connector serve said (last lines):\n{problems[-2000:]}", file=sys.stderr)
            if server.poll() is not None:
                raise SystemExit(f"connector serve exited with {server.returncode}")
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            server.wait(30)
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return {
        "benchmark": "api",
        "statements": args.statements,
        "clients": args.clients,
        "approve_clients": args.approve_clients,
        "seconds": args.seconds,
        "workers": args.workers,
        "threads": args.threads,
        "pool_size": args.pool_size,
        "max_overflow": args.max_overflow,
        "seed_seconds": round(seeded, 1),
        **figures,
        "targets_met": figures["list_p99_ms"] <= 250 and figures["approve_per_second"] >= 100,
        "load_average_before": load_before,
        "load_average": [round(load, 2) for load in os.getloadavg()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each phase")
    parser.add_argument("--clients", type=int, default=50, help="concurrent listing clients")
    parser.add_argument("--approve-clients", type=int, default=8)
    parser.add_argument("--statements", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=2, help="connector serve processes")
    parser.add_argument("--threads", type=int, default=8, help="requests each works on at once")
    parser.add_argument("--pool-size", type=int, default=12, help="connections kept per worker")
    parser.add_argument("--max-overflow", type=int, default=4, help="more per worker while busy")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("CONNECTOR_TEST_POSTGRES_URL") or DEFAULT_URL,
        help="PostgreSQL URL (default: $CONNECTOR_TEST_POSTGRES_URL, else %(default)s)",
    )
    args = parser.parse_args()
    figures = run(args)
    for key in ("list_p50_ms", "list_p99_ms", "list_per_second", "approve_per_second"):
        print(f"{key}: {figures[key]}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
