"""Build benchmark: Draft statements for 5,000 customers × 3 providers on one database.

Setup (not timed): a tenant file with three provider keys (``aws``, ``azure``,
``softlayer``, all served by the aws plugin: the builder needs only the keys and the
stored charges, nothing is fetched), 5,000 customers with one account per provider, a
pricebook per provider, a tax rate (some customers exempt), support plans and global
discounts for some, credit grants for some; then, per provider, one final charge batch
inserted through ``connector.storage.bulk.insert_charges``: about 50 service categories
per customer (2 usage types each, the detail rows), marketplace rows, and provider tax
and credit rows that statements leave out.

Timed: ``connector.pipeline.build.build.generate`` for each provider, summed, with the
daemon's default ``build_workers`` (one worker process per CPU core; set
CONNECTOR_BUILD_WORKERS=1 to build in this process only). Per-provider timings, with the
CPU seconds of this process and of the workers, go to stderr; the last line is JSON
with statements per second, this process's peak RSS and the peak of the summed RSS of
this process and its workers during the timed part.
Target: at least 1,000 statements per second (15,000 statements in at most 15 s).

    .venv/bin/python benchmarks/build.py [--customers 5000] [--categories 48]
        [--usage-types 2] [--database-url URL] [--profile FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import random
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from connector.config.settings import DaemonSettings
from connector.contracts import CanonicalCharge, ChargeCategory
from connector.domain.periods import parse_period
from connector.pipeline import credits
from connector.pipeline.build.build import generate
from connector.runtime.runtime import Runtime, open_runtime
from connector.runtime.tenants import sync_tenant
from connector.storage import models as m
from connector.storage.bulk import insert_charges
from connector.storage.details import read_details

PROVIDERS = ("aws", "azure", "softlayer")
PERIOD = parse_period("2026-10")
TODAY = dt.date(2026, 11, 6)
USAGE_TYPES = ("BoxUsage", "DataTransfer-Out")
MARKETPLACE = ("Threat Manager", "PDF Editor")

HEADER = """\
tenant: bench
profile: {name: Benchmark Reseller}
invoice_options:
  next_invoice_number: 1
  add_rounding_adjustments: true
generation: {apply_credits: true, include_tax: true, include_marketplace_fees: true}
providers:
  aws: {plugin: aws, settings: {path: .}}
  azure: {plugin: aws, settings: {path: .}}
  softlayer: {plugin: aws, settings: {path: .}}
erp: {sink: csv}
tax_rates:
  - {name: Sales Tax, rate: "0.0825"}
support_plans:
  - id: business
    tiers: [{up_to: 10000, percent: 10}, {percent: 5}]
    minimum_fee: "100"
pricebooks:
"""
PRICEBOOK = """\
  - id: {provider}-standard
    provider: {provider}
    versions:
      - effective: 2026-01-01
        rules:
          - {{adjust: markup, percent: 15}}
          - {{service: Storage 3, adjust: discount, percent: 5}}
          - {{service: Compute 7, sku: DataTransfer-Out, adjust: markup, percent: "22.5"}}
          - {{charge_category: Purchase, adjust: markup, percent: 8}}
"""
CUSTOMER = """\
  - id: "{id}"
    name: Customer {id}
    invoice_currency: USD
    pricebooks: {{aws: aws-standard, azure: azure-standard, softlayer: softlayer-standard}}
    accounts: {{aws: ["a{id}"], azure: ["z{id}"], softlayer: ["s{id}"]}}
{extra}"""


def _extra(index: int) -> str:
    lines = []
    if index % 10 == 9:
        lines.append("    tax_exempt: true")
    lines.append("    tax: Sales Tax")
    if index % 3 == 0:
        lines.append("    support_plan: business")
    if index % 4 == 1:
        lines.append('    global_discount: "2.5"')
    return "".join(f"{line}\n" for line in lines)


def tenant_yaml(customers: int) -> str:
    text = HEADER + "".join(PRICEBOOK.format(provider=p) for p in PROVIDERS) + "customers:\n"
    return text + "".join(
        CUSTOMER.format(id=f"C{i:05d}", extra=_extra(i)) for i in range(customers)
    )


def _money(rng: random.Random, high: int) -> Decimal:
    # Ten decimal places, as aggregated provider data has.
    return Decimal(rng.randrange(0, high * 10**10)).scaleb(-10)


def charges_for(
    provider: str, customers: int, categories: int, usage_types: int, rng: random.Random
) -> Iterator[CanonicalCharge]:
    """Each customer's charges for one provider, generated as they are inserted."""
    prefix = {"aws": "a", "azure": "z", "softlayer": "s"}[provider]
    for i in range(customers):
        account = f"{prefix}C{i:05d}"

        def charge(category, service, sku, kind=ChargeCategory.USAGE, account=account, **kw):
            cost = _money(rng, 40)
            return CanonicalCharge(
                billing_account_id="payer", sub_account_id=account, charge_category=kind,
                service_name=service, service_category=category, sku=sku, billed_cost=cost,
                list_cost=cost * Decimal("1.1"), billing_currency="USD",
                charge_period_start=PERIOD.start, charge_period_end=PERIOD.end,
                quantity=_money(rng, 1000), invoice_id="INV-1", line_item_type=sku, **kw,
            )  # fmt: skip

        for c in range(categories):
            family = ("Compute", "Storage", "Database", "Network")[c % 4]
            for usage in USAGE_TYPES[:usage_types]:
                yield charge(f"{family} {c}", f"{provider}-{family.lower()}-{c}", usage)
        for product in MARKETPLACE:
            yield charge(product, product, "Subscription", publisher="Vendor", is_marketplace=True)
        yield charge("Support", "Support", "Upfront", ChargeCategory.PURCHASE)
        # Provider tax and credits: the reseller's, never copied onto statements.
        yield charge("Tax", "Tax", "Tax", ChargeCategory.TAX)
        yield charge("Credits", "Promo", "Credit", ChargeCategory.CREDIT)


def setup(runtime: Runtime, customers: int, categories: int, usage_types: int, seed: int) -> int:
    """Store grants and one final batch per provider; returns the charges stored."""
    rng = random.Random(seed)
    config = runtime.tenant("bench")
    stored = 0
    with runtime.db.transaction() as session:
        sync_tenant(session, config)
        for i, customer in enumerate(config.customers):
            if i % 5 == 0:  # small grants: used up; every 50th: larger than all three bills
                amount = Decimal("250000.00") if i % 50 == 0 else _money(rng, 300)
                credits.add_grant(session, "bench", customer.id, amount + Decimal("0.01"),
                                  "USD", "benchmark promo", "bench")  # fmt: skip
        for provider in PROVIDERS:
            row = m.ChargeBatch(
                tenant_id="bench", provider=provider, period_start=PERIOD.start,
                period_end=PERIOD.end, source=f"bench:{provider}", source_hash=provider,
                row_count=0, billed_total=Decimal(0), final=True,
            )  # fmt: skip
            session.add(row)
            session.flush()
            counted = [0, Decimal(0)]

            def counting(charges: Iterator[CanonicalCharge], counted=counted):
                # Streamed, so the setup's memory does not mask the build's peak RSS.
                for charge in charges:
                    counted[0] += 1
                    counted[1] += charge.billed_cost
                    yield charge

            charges = charges_for(provider, customers, categories, usage_types, rng)
            insert_charges(session, row.id, counting(charges))
            row.row_count, row.billed_total = counted
            stored += counted[0]
    return stored


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _descendants() -> list[int]:
    """This process's descendants (the build workers and the server they start from)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # ended meanwhile
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [os.getpid()]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class TreeWatch(threading.Thread):
    """The peak of the summed resident sets of this process and its descendants (Linux:
    read from /proc every 50 ms), and the CPU seconds its descendants used (their own,
    and that of the workers they started and waited for)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_mib = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.05):
            pids = [os.getpid(), *_descendants()]
            self.peak_mib = max(self.peak_mib, sum(_rss_mib(pid) for pid in pids))

    def stop(self) -> None:
        self._done.set()
        self.join()

    @staticmethod
    def descendants_cpu() -> float:
        ticks = 0
        for pid in _descendants():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        return ticks / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--categories", type=int, default=48, help="service categories")
    parser.add_argument(
        "--usage-types", type=int, default=2, choices=(1, 2), help="detail rows per category"
    )
    parser.add_argument("--seed", type=int, default=20261101)
    parser.add_argument("--database-url", help="an empty database; default: a new SQLite file")
    parser.add_argument("--profile", help="write a cProfile of the timed part to this file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tenants = Path(tmp) / "tenants"
        tenants.mkdir()
        (tenants / "bench.yaml").write_text(tenant_yaml(args.customers))
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        started = time.perf_counter()
        runtime = open_runtime(
            DaemonSettings(database_url=url, tenants_dir=tenants, output_dir=Path(tmp) / "out")
        )
        charges = setup(runtime, args.customers, args.categories, args.usage_types, args.seed)
        print(f"setup {time.perf_counter() - started:6.2f}s ({charges} charges)", file=sys.stderr)

        profiler = cProfile.Profile() if args.profile else None
        watch = TreeWatch()
        watch.start()
        seconds = 0.0
        statements = 0
        for provider in PROVIDERS:
            if profiler:
                profiler.enable()
            cpu, workers_cpu = time.process_time(), TreeWatch.descendants_cpu()
            started = time.perf_counter()
            report = generate(runtime, "bench", provider, PERIOD, today=TODAY)
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
            workers_cpu = TreeWatch.descendants_cpu() - workers_cpu
            if profiler:
                profiler.disable()
            seconds += elapsed
            statements += len(report.generated)
            print(
                f"{provider:10s} {elapsed:6.2f}s ({len(report.generated)} statements, "
                f"{len(report.skipped)} skipped; cpu {cpu:.2f}s here, {workers_cpu:.2f}s in "
                "build workers)",
                file=sys.stderr,
            )
            del report
        watch.stop()
        if profiler:
            profiler.dump_stats(args.profile)
        with runtime.db.transaction() as session:
            lines = session.scalar(select(func.count()).select_from(m.StatementLine))
            details = sum(
                len(read_details(text)) for text in session.scalars(select(m.Statement.detail_rows))
            )
        runtime.db.dispose()
    print(
        json.dumps(
            {
                "customers": args.customers,
                "providers": len(PROVIDERS),
                "database": url.split(":", 1)[0],
                "statements": statements,
                "lines": lines,
                "details": details,
                "seconds": round(seconds, 2),
                "statements_per_second": round(statements / seconds, 1),
                "peak_rss_mib": round(peak_rss_mib(), 1),
                "peak_rss_with_workers_mib": round(watch.peak_mib, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
