"""Ingest benchmark, provider half: the aws provider against a bare DuckDB GROUP BY.

Generates (once, cached under ``benchmarks/.data/``) a synthetic legacy CUR CSV.gz,
then times, in the same process and alternating:

* ``list(AwsCurProvider(...).fetch())``: header checks, the DuckDB pass, hashing and
  every CanonicalCharge materialised;
* the bare query a person would write:
  ``SELECT usage account, product code, usage type, line item type, sum(cost)
  FROM read_csv(file) GROUP BY ALL`` (DuckDB detecting the CSV dialect itself), fetched
  into Python (``fetchall``), with the same DuckDB thread and memory settings and the
  cost read as DECIMAL(38,12), as ours is.

The best of ``--repeat`` runs of each counts (the host is shared; the minimum is the
least disturbed); every run's wall and CPU seconds go to stderr. The last line printed
is JSON::

    {"rows": ..., "ingest_seconds": ..., "duckdb_seconds": ..., "ratio": ...,
     "peak_rss_mib": ...}

Targets: ratio <= 1.5 for this half, peak RSS <= 1 GiB.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from connector_aws import AwsCurProvider  # noqa: E402
from cur_synth import DEFAULT_SEED, write_synthetic_cur  # noqa: E402

from connector.plugin_kit.scratch import MEMORY_LIMIT, THREADS  # noqa: E402

DATA = Path(__file__).resolve().parent / ".data"


def cached_cur(rows: int, accounts: int, seed: int, suffix: str = ".csv.gz") -> Path:
    """The synthetic CUR for these arguments, generated on first use.

    ``suffix`` ``.csv.gz`` gives the legacy CUR, ``.parquet`` the same rows as CUR 2.0
    Parquet; each lives alone in its folder, so the provider reads exactly that file.
    """
    kind = "parquet" if suffix == ".parquet" else "cur"
    path = DATA / f"{kind}-{rows}-{accounts}-{seed}" / f"cur{suffix}"
    if not path.exists():
        # Written outside the folder the provider reads, then moved in: a half-written
        # file is never ingested.
        partial = path.parent.with_name(path.parent.name + ".partial") / path.name
        started = time.perf_counter()
        write_synthetic_cur(partial, rows, accounts, seed=seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.rename(path)
        partial.parent.rmdir()
        print(f"generated {path} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return path


def time_provider(folder: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds for ``list(fetch())`` with every charge materialised, and
    the number of charges."""
    started, cpu = time.perf_counter(), time.process_time()
    batches = list(AwsCurProvider({"path": str(folder)}, folder).fetch())
    # A ChargeTable makes its charges when read: read every one.
    charges = sum(1 for batch in batches for _ in batch.charges)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    del batches
    gc.collect()
    return elapsed, cpu, charges


def time_duckdb(path: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds for the bare DuckDB GROUP BY over the same file, result
    fetched, and the number of groups."""
    return _time_query(
        """
        SELECT "lineItem/UsageAccountId", "lineItem/ProductCode", "lineItem/UsageType",
               "lineItem/LineItemType", sum("lineItem/UnblendedCost")
        FROM read_csv(?, types = {'lineItem/UnblendedCost': 'DECIMAL(38,12)'})
        GROUP BY ALL
        """,
        path,
    )


def time_duckdb_parquet(path: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds for the bare DuckDB GROUP BY over a CUR 2.0 Parquet file,
    the DOUBLE cost cast to DECIMAL(38,12) as ours is, result fetched; and the groups."""
    return _time_query(
        """
        SELECT line_item_usage_account_id, line_item_product_code, line_item_usage_type,
               line_item_line_item_type,
               sum(CAST(line_item_unblended_cost AS DECIMAL(38,12)))
        FROM read_parquet(?)
        GROUP BY ALL
        """,
        path,
    )


def _time_query(sql: str, path: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds of ``sql`` over ``path`` with the provider's DuckDB thread and
    memory settings, result fetched; and the number of rows it gave."""
    config = {"memory_limit": MEMORY_LIMIT, "threads": str(THREADS)}
    started, cpu = time.perf_counter(), time.process_time()
    with duckdb.connect(":memory:", config=config) as con:
        con.execute("SET enable_progress_bar = false")
        result = con.execute(sql, [str(path)]).fetchall()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    groups = len(result)
    del result
    gc.collect()
    return elapsed, cpu, groups


def data_arguments(parser: argparse.ArgumentParser) -> None:
    """The synthetic CUR's arguments, shared by the ingest benchmarks."""
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--accounts", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)


def report(run: int, what: str, seconds: float, cpu: float | None, count: str) -> None:
    """One timed run on stderr."""
    spent = f"{seconds:6.2f}s wall" + (f" {cpu:6.2f}s cpu" if cpu is not None else "")
    print(f"run {run + 1}: {what:16s} {spent} ({count})", file=sys.stderr)


@contextmanager
def fresh_schema(url: str) -> Iterator[str]:
    """``url`` (a PostgreSQL database) with its search_path set to a new schema, dropped
    afterwards: an empty database for one run."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the JSON summary as the last line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data_arguments(parser)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)

    path = cached_cur(args.rows, args.accounts, args.seed)
    ingest, bare = [], []
    for run in range(args.repeat):
        seconds, cpu, groups = time_duckdb(path)
        bare.append(seconds)
        report(run, "duckdb", seconds, cpu, f"{groups} groups")
        seconds, cpu, charges = time_provider(path.parent)
        ingest.append(seconds)
        report(run, "provider", seconds, cpu, f"{charges} charges")
    summary = {
        "rows": args.rows,
        "ingest_seconds": round(min(ingest), 3),
        "duckdb_seconds": round(min(bare), 3),
        "ratio": round(min(ingest) / min(bare), 3),
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
