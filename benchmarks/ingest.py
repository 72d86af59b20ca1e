"""Ingest benchmark: 5,000,000 legacy CUR rows through the real provider and storage.

In the same run it times a bare DuckDB ``GROUP BY`` over the same file as the
reference, and prints a final JSON line with both wall times, their ratio and the
process's peak RSS. Targets: ratio <= 2.0, peak RSS <= 1 GiB.

    .venv/bin/python benchmarks/ingest.py [--rows 5000000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cur_synth import write_synthetic_cur  # noqa: E402

from connector.config.settings import DaemonSettings  # noqa: E402
from connector.pipeline.ingest import ingest  # noqa: E402
from connector.pipeline.runtime import open_runtime  # noqa: E402

DATA = Path(__file__).resolve().parent / ".data"

TENANT = """\
tenant: bench
profile: {{name: Benchmark Reseller}}
providers:
  aws: {{settings: {{path: "{folder}"}}}}
erp: {{sink: csv}}
"""


def bare_group_by(path: Path) -> tuple[float, int]:
    """The reference: DuckDB alone summing cost per account, service, usage and type."""
    started = time.perf_counter()
    con = duckdb.connect()
    rows = con.execute(f"""
        SELECT "lineItem/UsageAccountId", "lineItem/ProductCode", "lineItem/UsageType",
               "lineItem/LineItemType", sum(CAST("lineItem/UnblendedCost" AS DECIMAL(38, 12)))
        FROM read_csv('{path}', header = true, all_varchar = true)
        GROUP BY ALL
    """).fetchall()
    con.close()
    return time.perf_counter() - started, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--accounts", type=int, default=5_000)
    parser.add_argument("--database-url", help="default: a new SQLite file")
    args = parser.parse_args()

    folder = DATA / f"cur-{args.rows}-{args.accounts}-20261001"
    source = folder / "cur.csv.gz"
    if not source.exists():
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        write_synthetic_cur(source, rows=args.rows, accounts=args.accounts, period="2026-10")
        print(f"generated {source} in {time.perf_counter() - started:.1f}s", file=sys.stderr)

    with tempfile.TemporaryDirectory() as tmp:
        tenants = Path(tmp) / "tenants"
        tenants.mkdir()
        (tenants / "bench.yaml").write_text(TENANT.format(folder=folder))
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        runtime = open_runtime(
            DaemonSettings(database_url=url, tenants_dir=tenants, output_dir=Path(tmp) / "out")
        )
        reference_seconds, groups = bare_group_by(source)
        started = time.perf_counter()
        results = ingest(runtime, "bench", "aws")
        ingest_seconds = time.perf_counter() - started
        runtime.db.dispose()

    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "rows": args.rows,
                "charges_stored": sum(r.rows for r in results),
                "reference_groups": groups,
                "database": url.split(":", 1)[0],
                "ingest_seconds": round(ingest_seconds, 2),
                "duckdb_seconds": round(reference_seconds, 2),
                "ratio": round(ingest_seconds / reference_seconds, 2),
                "peak_rss_mib": round(peak_kib / 1024, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
