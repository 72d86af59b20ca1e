"""The least a Parquet ingest can cost, against the bare DuckDB query.

The ingest benchmark's Parquet ratio compares our full ingest (read and storage) with a
bare DuckDB ``GROUP BY`` over the same file. This measures, in the same run, what no
implementation storing the charges can avoid: the bare query itself (the aggregation
yields no row until it has finished, so storing cannot overlap it) plus loading that many
ready-made rows of the charges table's width into a new table with no index and no
foreign key, and committing: ``executemany`` into SQLite (every column text, as our
SQLite schema keeps money), ``COPY`` into PostgreSQL (the charges' column types: text,
NUMERIC(38,12), DATE, BOOLEAN; a logged table, as ours is). Their sum over the bare query
is a lower bound on the Parquet ratio; ``benchmarks/ingest.py`` measures our ingest
against the sum (``floor_ratio``).

    .venv/bin/python benchmarks/insert_floor.py [--rows 5000000] [--repeat 3]
        [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_provider import (  # noqa: E402
    cached_cur,
    data_arguments,
    fresh_schema,
    report,
    time_duckdb_parquet,
)

from connector.storage.bulk import CHARGE_COLUMNS  # noqa: E402

# PostgreSQL's types for the charges' columns that are not text.
TYPES = {"batch_id": "integer", "is_marketplace": "boolean"} | {
    column: "numeric(38, 12)" for column in ("billed_cost", "list_cost", "quantity")
} | {column: "date" for column in ("charge_period_start", "charge_period_end")}  # fmt: skip


def charge_rows(rows: int, marketplace: Any) -> list[tuple]:
    """``rows`` charge-shaped rows in CHARGE_COLUMNS order, the accounts distinct where
    real charges differ, so pages fill as they would."""
    row = (1, "900000000000", "100014570960", "Usage", None, "AmazonVPC",
           "Amazon Virtual Private Cloud", "USE1-NatGateway-Bytes", "Amazon Web Services, Inc.",
           marketplace, "3240.063598700400", "3623.433889348400", "3064936.200293999977", "USD",
           "2026-10-01", "2026-10-31", "EUINUS26-100000", "Usage", "Usage-Based")  # fmt: skip
    return [(*row[:2], f"{n:012d}", *row[3:]) for n in range(rows)]


def time_insert(rows: int, postgres: str | None = None) -> float:
    """Wall seconds to load and commit ``rows`` charge-shaped rows into a plain table:
    a new SQLite file, or a new schema of the ``postgres`` database."""
    if postgres is not None:
        return _time_copy(rows, postgres)
    data = charge_rows(rows, 0)
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


def _time_copy(rows: int, postgres: str) -> float:
    data = charge_rows(rows, False)
    columns = ", ".join(f"{c} {TYPES.get(c, 'text')}" for c in CHARGE_COLUMNS)
    with fresh_schema(postgres) as url:
        engine = sa.create_engine(url)
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(f"CREATE TABLE charges (id bigserial PRIMARY KEY, {columns})")
            raw.commit()
            started = time.perf_counter()
            with cursor.copy(f"COPY charges ({', '.join(CHARGE_COLUMNS)}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
            raw.commit()
            elapsed = time.perf_counter() - started
        finally:
            raw.close()
            engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    data_arguments(parser)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", help="a PostgreSQL URL; default: SQLite")
    args = parser.parse_args()
    path = cached_cur(args.rows, args.accounts, args.seed, suffix=".parquet")
    bare, insert = [], []
    for run in range(args.repeat):
        seconds, cpu, groups = time_duckdb_parquet(path)
        bare.append(seconds)
        report(run, "parquet duckdb", seconds, cpu, f"{groups} groups")
        insert.append(time_insert(groups, args.postgres))
        report(run, "bare insert", insert[-1], None, f"{groups} rows")
    print(
        json.dumps(
            {
                "rows_stored": groups,
                "database": "postgresql" if args.postgres else "sqlite",
                "duckdb_seconds": round(min(bare), 2),
                "insert_seconds": round(min(insert), 2),
                "least_ratio": round((min(bare) + min(insert)) / min(bare), 2),
            }
        )
    )


if __name__ == "__main__":
    main()
