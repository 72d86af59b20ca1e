"""Ingest benchmark: 5,000,000 legacy CUR rows through the real provider and storage.

Generates (once, cached under ``benchmarks/.data/``) a synthetic legacy CUR CSV.gz with
5,000 accounts, then times, in the same process and alternating:

* the full ingest: ``connector.pipeline.ingest.ingest.ingest`` for a tenant whose ``aws``
  provider points at the file: the provider's DuckDB pass and every canonical charge
  stored, in one transaction, in a new database (a SQLite file, or with ``--postgres`` a
  new schema of that PostgreSQL database);
* the reference: a bare DuckDB ``GROUP BY`` over the same file (see
  ``ingest_provider.time_duckdb``).

The best of ``--repeat`` runs of each counts (the host is shared). A JSON line gives
both wall times, their ratio and the peak RSS. Targets: ratio <= 2.0, peak RSS <= 1 GiB.

Then the Parquet part: the same rows as a CUR 2.0 Parquet file (DOUBLE costs, MAP
product), timing the full ingest of it (as above) against the bare DuckDB aggregate over
the same file (``ingest_provider.time_duckdb_parquet``) and against its floor: that bare
query plus the bare insert of as many rows into the same database
(``insert_floor.time_insert``). The provider's read alone (``list(fetch())``, every
charge built) is timed as well. Its JSON line, with ``"format": "parquet"``, is the last
line printed; ``floor_ratio`` is the full ingest over the floor. Targets: floor_ratio
<= 1.5, peak RSS <= 1 GiB (the peak is the whole process's: run ``--formats parquet``
for its own).

    .venv/bin/python benchmarks/ingest.py [--rows 5000000] [--repeat 2] [--postgres URL]
        [--formats csv,parquet]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_provider import (  # noqa: E402
    cached_cur,
    data_arguments,
    fresh_schema,
    peak_rss_mib,
    report,
    time_duckdb,
    time_duckdb_parquet,
    time_provider,
)
from insert_floor import time_insert  # noqa: E402

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


@contextmanager
def empty_database(folder: Path, postgres: str | None) -> Iterator[str]:
    """The URL of a new database: a SQLite file in ``folder``, or a new schema of the
    ``postgres`` database (dropped afterwards)."""
    if postgres is None:
        yield f"sqlite:///{folder}/bench.db"
        return
    with fresh_schema(postgres) as url:
        yield url


def time_ingest(folder: Path, postgres: str | None = None) -> tuple[float, int]:
    """Wall seconds of one full ingest into a new database, and the charges stored."""
    with tempfile.TemporaryDirectory() as tmp, empty_database(Path(tmp), postgres) as url:
        tenants = Path(tmp) / "tenants"
        tenants.mkdir()
        (tenants / "bench.yaml").write_text(TENANT.format(folder=folder))
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
    data_arguments(parser)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--postgres", help="a PostgreSQL URL; default: a new SQLite file")
    parser.add_argument("--formats", default="csv,parquet", help="csv, parquet or both")
    args = parser.parse_args()

    formats = {f.strip() for f in args.formats.split(",")}
    if "csv" in formats:
        path = cached_cur(args.rows, args.accounts, args.seed)
        print(json.dumps({"format": "csv.gz", **compare(args, path, time_duckdb)}), flush=True)
    if "parquet" in formats:
        path = cached_cur(args.rows, args.accounts, args.seed, suffix=".parquet")
        figures = compare(args, path, time_duckdb_parquet, parquet=True)
        print(json.dumps({"format": "parquet", **figures}), flush=True)


def compare(
    args: argparse.Namespace,
    path: Path,
    bare_query: Callable[[Path], tuple[float, float, int]],
    parquet: bool = False,
) -> dict[str, object]:
    """The full ingest of ``path`` against ``bare_query`` over it, ``--repeat`` times;
    for Parquet also the provider's read alone and the bare insert, and the floor ratio.
    Every run goes to stderr; the figures (best runs) are returned."""
    full, read, bare, insert = [], [], [], []
    kind = "parquet " if parquet else ""
    for run in range(args.repeat):
        seconds, cpu, groups = bare_query(path)
        bare.append(seconds)
        report(run, f"{kind}duckdb", seconds, cpu, f"{groups} groups")
        if parquet:
            seconds, cpu, charges = time_provider(path.parent)
            read.append(seconds)
            report(run, f"{kind}provider", seconds, cpu, f"{charges} charges")
            insert.append(time_insert(groups, args.postgres))
            report(run, "bare insert", insert[-1], None, f"{groups} rows")
        seconds, stored = time_ingest(path.parent, args.postgres)
        full.append(seconds)
        report(run, f"{kind}ingest", seconds, None, f"{stored} charges")
    figures: dict[str, object] = {
        "rows": args.rows,
        "charges_stored": stored,
        "database": "postgresql" if args.postgres else "sqlite",
        "ingest_seconds": round(min(full), 2),
        "duckdb_seconds": round(min(bare), 2),
        "ratio": round(min(full) / min(bare), 2),
    }
    if parquet:
        figures |= {
            "provider_read_seconds": round(min(read), 2),
            "read_ratio": round(min(read) / min(bare), 2),
            "insert_seconds": round(min(insert), 2),
            "floor_ratio": round(min(full) / (min(bare) + min(insert)), 2),
        }
    return figures | {"peak_rss_mib": round(peak_rss_mib(), 1)}


if __name__ == "__main__":
    main()
