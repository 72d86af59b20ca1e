"""The build's workers read PostgreSQL without its parallel workers: they are one process
per core already, and a parallel plan for each part's charges (a table of 1.4 million
charges) started two more processes per query on the same cores. The URL's own options
(the search path the tests' schemas use) and the timeouts still apply."""

from __future__ import annotations

from sqlalchemy import text

from connector.storage.db import DatabaseTimeouts, reader_engine


def test_a_build_reader_runs_without_parallel_workers_and_keeps_the_urls_options(
    postgres_url: str,
) -> None:
    engine = reader_engine(postgres_url, DatabaseTimeouts(statement_seconds=7))
    try:
        with engine.connect() as connection:
            shown = {
                name: connection.execute(text(f"SHOW {name}")).scalar_one()
                for name in ("max_parallel_workers_per_gather", "search_path", "statement_timeout")
            }
    finally:
        engine.dispose()
    assert shown["max_parallel_workers_per_gather"] == "0"
    assert shown["search_path"] == postgres_url.rsplit("search_path%3D", 1)[1]
    assert shown["statement_timeout"] == "7s"
