"""Floors for the month-end stages, measured in the same run over the same data.

* ingest: the bare DuckDB ``GROUP BY`` a person would write over each provider's file
  (the aws one is :func:`ingest_provider.time_duckdb`), plus inserting as many
  charge-shaped rows as the ingest stored into a plain table with no index
  (:func:`insert_floor.time_insert` on SQLite; ``COPY`` into a temporary table on
  PostgreSQL, the fastest bare load it has).
* render: ReportLab drawing a statement's two pages bare (:func:`render.render_bare`),
  timed on a sample and multiplied out to the number of PDFs rendered.
* push to Xero: the API calls made at Xero's ceiling (60 calls per scaled minute).
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_provider import time_duckdb  # noqa: E402
from insert_floor import time_insert  # noqa: E402

from connector.plugin_kit.scratch import MEMORY_LIMIT, THREADS  # noqa: E402
from connector.storage.bulk import CHARGE_COLUMNS  # noqa: E402

_GROUP_BY = {
    "azure": """
        SELECT SubscriptionId, MeterCategory, MeterSubCategory, MeterName, ChargeType,
               PublisherType, sum(Cost)
        FROM read_csv(?, types = {'Cost': 'DECIMAL(38,12)'}) GROUP BY ALL""",
    "focus": """
        SELECT SubAccountId, ChargeCategory, ChargeFrequency, ServiceName, SkuId,
               sum(BilledCost), sum(ListCost)
        FROM read_csv(?, types = {'BilledCost': 'DECIMAL(38,16)', 'ListCost': 'DECIMAL(38,16)'})
        GROUP BY ALL""",
}


def bare_query_seconds(provider: str, path: Path) -> float:
    """Wall seconds of the bare DuckDB GROUP BY over ``path``, result fetched."""
    if provider == "aws":
        return time_duckdb(path)[0]
    started = time.perf_counter()
    with duckdb.connect(
        ":memory:", config={"memory_limit": MEMORY_LIMIT, "threads": str(THREADS)}
    ) as con:
        con.execute("SET enable_progress_bar = false")
        con.execute(_GROUP_BY[provider], [str(path)]).fetchall()
    return time.perf_counter() - started


def bare_insert_seconds(engine, rows: int) -> float:  # type: ignore[no-untyped-def]
    """Wall seconds to load ``rows`` charge-shaped rows into a bare table of ``engine``'s
    kind of database (SQLite: a new file; PostgreSQL: a temporary table, ``COPY``)."""
    if engine.dialect.name != "postgresql":
        return time_insert(rows)
    row = (
        "1",
        "900000000000",
        None,
        "Usage",
        None,
        "AmazonVPC",
        "Amazon Virtual Private Cloud",
        "USE1-NatGateway-Bytes",
        "Amazon Web Services, Inc.",
        "0",
        "3240.063598700400",
        "3623.433889348400",
        "3064936.200293999977",
        "USD",
        "2026-10-01",
        "2026-10-31",
        "EUINUS26-100000",
        "Usage",
        "Usage-Based",
    )
    columns = ", ".join(CHARGE_COLUMNS)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(
            f"CREATE TEMP TABLE floor_charges (id bigserial PRIMARY KEY, "
            f"{', '.join(f'{c} text' for c in CHARGE_COLUMNS)})"
        )
        raw.commit()
        started = time.perf_counter()
        with cursor.copy(f"COPY floor_charges ({columns}) FROM STDIN") as copy:
            for n in range(rows):
                copy.write_row((*row[:2], f"{n:012d}", *row[3:]))
        raw.commit()
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE floor_charges")
        raw.commit()
    finally:
        raw.close()
    return elapsed


def bare_pdf_seconds_each(sample: int = 50) -> float:
    """Seconds ReportLab takes to draw one two-page statement bare (mean of ``sample``)."""
    from render import make_document, render_bare

    rng = random.Random(20261101)
    documents = [make_document(i, rng) for i in range(sample)]
    started = time.perf_counter()
    for document in documents:
        render_bare(document)
    return (time.perf_counter() - started) / sample
