"""Planner statistics for a table just filled in bulk, on PostgreSQL.

PostgreSQL plans each query by what ``ANALYZE`` last saw of the tables. A table filled
in one transaction (a new distributor's 20,000 customers and 60,000 account mappings,
synced from its tenant file) has no statistics until autovacuum gets to it, minutes
later or, on a busy server, not before the month end's build; until then the planner
takes it for a handful of rows. Locking 500 of 20,000 customers by id was then planned
as a scan of every customer of the tenant, each compared against the 500 ids: 0.4 s a
chunk, 45 s of a 100 s build at scale 4 of ``benchmarks/month_end.py``, where 1 ms a
chunk is right, and a cost per statement that grew with the number of customers.

The same held after a build: reading a month's documents back 500 statements at a time
(the export, the push) cost 1.2x more per statement at scale 4 than at scale 1 before
the statements and their lines were analysed, and the same after.

PostgreSQL's manual says to run ``ANALYZE`` after populating a table ("Populating a
Database"). :func:`analyze_after_load` does, inside the writer's transaction (ANALYZE
may run in one, and counts the transaction's own rows), when a write added at least
:data:`MIN_ROWS` rows; smaller changes are autovacuum's. SQLite's planner prefers an
index without statistics and needs nothing here.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

#: Rows a write must add for its table to be analysed at once.
MIN_ROWS = 1000


def analyze_after_load(session: Session, table: str, rows_added: int) -> None:
    """``ANALYZE`` ``table`` in ``session``'s transaction when ``rows_added`` is at least
    :data:`MIN_ROWS` and the database is PostgreSQL."""
    if rows_added < MIN_ROWS:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    quoted = connection.dialect.identifier_preparer.quote(table)
    connection.exec_driver_sql(f"ANALYZE {quoted}")
