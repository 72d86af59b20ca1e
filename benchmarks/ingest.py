"""Ingest benchmark: 5,000,000 legacy CUR rows through the real provider and storage.

Generates (once, cached under ``benchmarks/.data/``) a synthetic legacy CUR CSV.gz with
5,000 accounts, then times, in the same process and alternating:

* the full ingest: ``connector.pipeline.ingest.ingest.ingest`` for a tenant whose ``aws``
  provider points at the file: the provider's DuckDB pass and every canonical charge
  stored, in one transaction, in a new database (SQLite unless ``--database-url``);
* the reference: a bare DuckDB ``GROUP BY`` over the same file (see
  ``ingest_provider.time_duckdb``).

The best of ``--repeat`` runs of each counts (the host is shared). A JSON line gives
both wall times, their ratio and the peak RSS. Targets: ratio <= 2.0, peak RSS <= 1 GiB.

Then the Parquet part: the same rows as a CUR 2.0 Parquet file (DOUBLE costs, MAP
product), timing the full ingest of it (as above) against the bare DuckDB aggregate over
the same file (``ingest_provider.time_duckdb_parquet``); the provider's read alone
(``list(fetch())``, every charge built) is timed as well. Its JSON line, with
``"format": "parquet"``, is the last line printed. Targets: ratio <= 2.0, peak RSS
<= 1 GiB (the peak is the whole process's: run ``--formats parquet`` for its own).

    .venv/bin/python benchmarks/ingest.py [--rows 5000000] [--repeat 2] [--database-url URL]
        [--formats csv,parquet]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_provider import (  # noqa: E402
    cached_cur,
    peak_rss_mib,
    time_duckdb,
    time_duckdb_parquet,
    time_provider,
)

from connector.config.settings import DaemonSettings  # noqa: E402
from connector.pipeline.ingest.ingest import ingest  # noqa: E402
from connector.runtime.runtime import open_runtime  # noqa: E402

TENANT = """\
tenant: bench
profile: {{name: Benchmark Reseller}}
providers:
  aws: {{settings: {{path: "{folder}"}}}}
erp: {{sink: csv}}
"""


def time_ingest(folder: Path, database_url: str | None) -> tuple[float, int]:
    """Wall seconds of one full ingest into a new database, and the charges stored."""
    with tempfile.TemporaryDirectory() as tmp:
        tenants = Path(tmp) / "tenants"
        tenants.mkdir()
        (tenants / "bench.yaml").write_text(TENANT.format(folder=folder))
        url = database_url or f"sqlite:///{tmp}/bench.db"
        runtime = open_runtime(
            DaemonSettings(database_url=url, tenants_dir=tenants, output_dir=Path(tmp) / "out")
        )
        started = time.perf_counter()
        results = ingest(runtime, "bench", "aws")
        elapsed = time.perf_counter() - started
        runtime.db.dispose()
    return elapsed, sum(r.rows for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--accounts", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=20261001)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--database-url", help="an empty database; default: a new SQLite file")
    parser.add_argument("--formats", default="csv,parquet", help="csv, parquet or both")
    args = parser.parse_args()

    formats = {f.strip() for f in args.formats.split(",")}
    if "csv" in formats:
        csv_part(args)
    if "parquet" in formats:
        parquet_part(args)


def csv_part(args: argparse.Namespace) -> None:
    """The full ingest of the legacy CUR CSV.gz against the bare query; prints JSON."""
    path = cached_cur(args.rows, args.accounts, args.seed)
    full, bare = [], []
    for run in range(args.repeat):
        seconds, _, groups = time_duckdb(path)
        bare.append(seconds)
        print(f"run {run + 1}: duckdb {seconds:6.2f}s ({groups} groups)", file=sys.stderr)
        seconds, stored = time_ingest(path.parent, args.database_url)
        full.append(seconds)
        print(f"run {run + 1}: ingest {seconds:6.2f}s ({stored} charges)", file=sys.stderr)
    print(
        json.dumps(
            {
                "format": "csv.gz",
                "rows": args.rows,
                "charges_stored": stored,
                "database": (args.database_url or "sqlite").split(":", 1)[0],
                "ingest_seconds": round(min(full), 2),
                "duckdb_seconds": round(min(bare), 2),
                "ratio": round(min(full) / min(bare), 2),
                "peak_rss_mib": round(peak_rss_mib(), 1),
            }
        ),
        flush=True,
    )


def parquet_part(args: argparse.Namespace) -> None:
    """The full ingest of the CUR 2.0 Parquet file against the bare query; prints JSON.

    The provider's read alone (``list(fetch())``) is timed too, to show where the time
    goes; the ratio is the full ingest's, as for the CSV.gz file.
    """
    path = cached_cur(args.rows, args.accounts, args.seed, suffix=".parquet")
    full, read, bare = [], [], []
    for run in range(args.repeat):
        seconds, cpu, groups = time_duckdb_parquet(path)
        bare.append(seconds)
        print(
            f"run {run + 1}: parquet duckdb   {seconds:6.2f}s wall {cpu:6.2f}s cpu "
            f"({groups} groups)",
            file=sys.stderr,
        )
        seconds, cpu, charges = time_provider(path.parent)
        read.append(seconds)
        print(
            f"run {run + 1}: parquet provider {seconds:6.2f}s wall {cpu:6.2f}s cpu "
            f"({charges} charges)",
            file=sys.stderr,
        )
        seconds, stored = time_ingest(path.parent, args.database_url)
        full.append(seconds)
        print(f"run {run + 1}: parquet ingest   {seconds:6.2f}s ({stored} charges)",
              file=sys.stderr)  # fmt: skip
    print(
        json.dumps(
            {
                "format": "parquet",
                "rows": args.rows,
                "charges_stored": stored,
                "database": (args.database_url or "sqlite").split(":", 1)[0],
                "ingest_seconds": round(min(full), 2),
                "provider_read_seconds": round(min(read), 2),
                "duckdb_seconds": round(min(bare), 2),
                "ratio": round(min(full) / min(bare), 2),
                "read_ratio": round(min(read) / min(bare), 2),
                "peak_rss_mib": round(peak_rss_mib(), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
