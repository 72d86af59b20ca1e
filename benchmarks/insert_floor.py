"""The least a Parquet ingest into SQLite can cost, against the bare DuckDB query.

The ingest benchmark's Parquet ratio compares our full ingest (read and storage) with a
bare DuckDB ``GROUP BY`` over the same file. This measures, in the same run, what no
implementation storing the charges in SQLite can avoid: the bare query itself (the
aggregation yields no row until it has finished, so storing cannot overlap it) plus
inserting that many ready-made rows of the charges table's width with ``executemany``
into a new table with no index and no foreign key, and committing. Their sum over the
bare query is a lower bound on the Parquet ratio.

    .venv/bin/python benchmarks/insert_floor.py [--rows 5000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_provider import cached_cur, time_duckdb_parquet  # noqa: E402

from connector.storage.bulk import CHARGE_COLUMNS  # noqa: E402


def time_insert(rows: int) -> float:
    """Wall seconds to insert and commit ``rows`` charge-shaped rows into a plain table."""
    row = (1, "900000000000", "100014570960", "Usage", None, "AmazonVPC",
           "Amazon Virtual Private Cloud", "USE1-NatGateway-Bytes", "Amazon Web Services, Inc.",
           0, "3240.063598700400", "3623.433889348400", "3064936.200293999977", "USD",
           "2026-10-01", "2026-10-31", "EUINUS26-100000", "Usage", "Usage-Based")  # fmt: skip
    # Distinct values where the real charges differ, so pages fill as they would.
    data = [(*row[:2], f"{n:012d}", *row[3:]) for n in range(rows)]
    with tempfile.TemporaryDirectory() as tmp:
        con = sqlite3.connect(Path(tmp) / "floor.db", isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        columns = ", ".join(f"{c} TEXT" for c in CHARGE_COLUMNS)
        con.execute(f"CREATE TABLE charges (id INTEGER PRIMARY KEY, {columns})")
        sql = (
            f"INSERT INTO charges ({', '.join(CHARGE_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(CHARGE_COLUMNS))})"
        )
        started = time.perf_counter()
        con.execute("BEGIN")
        con.executemany(sql, data)
        con.execute("COMMIT")
        elapsed = time.perf_counter() - started
        con.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--accounts", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=20261001)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path = cached_cur(args.rows, args.accounts, args.seed, suffix=".parquet")
    bare, insert = [], []
    for run in range(args.repeat):
        seconds, _, groups = time_duckdb_parquet(path)
        bare.append(seconds)
        insert.append(time_insert(groups))
        print(f"run {run + 1}: duckdb {bare[-1]:.2f}s, insert {groups} rows {insert[-1]:.2f}s",
              file=sys.stderr)  # fmt: skip
    print(
        json.dumps(
            {
                "rows_stored": groups,
                "duckdb_seconds": round(min(bare), 2),
                "insert_seconds": round(min(insert), 2),
                "least_ratio": round((min(bare) + min(insert)) / min(bare), 2),
            }
        )
    )


if __name__ == "__main__":
    main()
