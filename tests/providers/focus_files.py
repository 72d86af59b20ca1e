"""FOCUS exports for the focus provider's tests: fixtures, CSV rewrites, Parquet via DuckDB."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb

from tests.providers.export_files import copy as copy
from tests.providers.export_files import csv_bytes, write_bytes
from tests.providers.export_files import read_csv as read_rows

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "focus"
FOCUS_10 = FIXTURES / "focus_1_0_aws.csv"
FOCUS_12 = FIXTURES / "focus_1_2_azure.csv"

# Parquet writers type their columns: money as DOUBLE or DECIMAL, periods as timestamps.
DOUBLE_COLUMNS = ("BilledCost",)
DECIMAL_COLUMNS = ("ListCost", "PricingQuantity", "ConsumedQuantity", "EffectiveCost")
TIMESTAMP_COLUMNS = (
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
)


def write_csv(path: Path, header: list[str], rows: Iterable[Mapping[str, str]]) -> Path:
    return write_bytes(path, csv_bytes(header, rows, line_end="\n"))


def to_parquet(source: Path, target: Path, typed: bool = True) -> Path:
    """Write a CSV export as Parquet with DuckDB COPY; ``typed``: money and periods get
    number and timestamp types ("NULL" text in them becomes a real null), text columns
    keep their "NULL" strings."""
    target.parent.mkdir(parents=True, exist_ok=True)
    header, _ = read_rows(source)
    replace = []
    if typed:
        for name in header:
            if name in DOUBLE_COLUMNS:
                replace.append(f'TRY_CAST("{name}" AS DOUBLE) AS "{name}"')
            elif name in DECIMAL_COLUMNS:
                replace.append(f'TRY_CAST("{name}" AS DECIMAL(28,10)) AS "{name}"')
            elif name in TIMESTAMP_COLUMNS:
                replace.append(f'CAST("{name}" AS TIMESTAMPTZ) AS "{name}"')
    star = f"* REPLACE ({', '.join(replace)})" if replace else "*"
    with duckdb.connect(":memory:") as con:
        con.execute("SET TimeZone = 'UTC'")
        # Through a table: a cast in the same query would be pushed into the CSV reader.
        con.execute(
            f"CREATE TABLE export AS SELECT * FROM read_csv('{source}', header = true, "
            f"all_varchar = true)"
        )
        con.execute(f"COPY (SELECT {star} FROM export) TO '{target}' (FORMAT parquet)")
    return target
