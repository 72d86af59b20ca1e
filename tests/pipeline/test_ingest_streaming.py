"""Issue 24: a period's charges stream from the provider into the database a chunk at a
time, inside the one ingest transaction.

What is stored is exactly what storing the whole period at once stored; a failure on a
later chunk (the provider's or the database's) leaves nothing written and reports what
the provider said; the aws provider refuses bad data before it yields any period.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from connector_aws import AwsCurProvider
from sqlalchemy import select

from connector.config.settings import DaemonSettings
from connector.contracts import BillingPeriod, ChargeBatch, ChargeTable, SourceDataError
from connector.pipeline.ingest import ingest as ingest_module
from connector.pipeline.ingest.ingest import ingest, store_batch
from connector.progress import NO_PROGRESS
from connector.runtime.runtime import open_runtime
from connector.storage import models as m
from connector.storage.bulk import insert_charges
from tests.pipeline.conftest import CUR, REPO
from tests.providers.cur_files import NOVEMBER, row, write_cur
from tests.storage.test_bulk_charge_table import SCHEMA, TABLE, schema_of_charges

OCTOBER = BillingPeriod(dt.date(2026, 10, 1), dt.date(2026, 11, 1))
STORED = (
    "billing_account_id, sub_account_id, charge_category, charge_class, service_name, "
    "service_category, sku, publisher, is_marketplace, billed_cost, list_cost, quantity, "
    "billing_currency, charge_period_start, charge_period_end, invoice_id, line_item_type, "
    "charge_frequency"
)


def stored_rows(runtime, batch_id: int) -> list[tuple]:  # type: ignore[no-untyped-def]
    """A batch's charges exactly as the database holds them (text on SQLite)."""
    with runtime.db.transaction() as session:
        rows = session.connection().exec_driver_sql(
            f"SELECT {STORED} FROM charges WHERE batch_id = {int(batch_id)}"
        )
        return sorted(tuple(r) for r in rows)


def test_a_streamed_period_stores_exactly_what_storing_it_whole_stored(
    runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "STORE_CHUNK", 10)  # 54 charges: six chunks
    (result,) = ingest(runtime, "acme", "aws")
    assert result.rows == 54
    # The same file fetched and held whole, stored in one insert as before streaming.
    provider = ingest_module.make_provider(runtime, "acme", "aws")
    (batch,) = list(provider.fetch())
    assert isinstance(batch.charges, ChargeTable) and len(batch.charges.rows) == 54
    with runtime.db.transaction() as session:
        streamed = session.scalars(select(m.ChargeBatch)).one()
        whole = m.ChargeBatch(
            tenant_id="acme", provider="aws-whole", period_start=OCTOBER.start,
            period_end=OCTOBER.end, source="s", source_hash="whole", row_count=54,
            billed_total=0,
        )  # fmt: skip
        session.add(whole)
        session.flush()
        insert_charges(session, whole.id, batch.charges)
        streamed_id, whole_id, billed_total = streamed.id, whole.id, streamed.billed_total
    assert stored_rows(runtime, streamed_id) == stored_rows(runtime, whole_id)
    assert len(stored_rows(runtime, streamed_id)) == 54
    assert billed_total == sum(c.billed_cost for c in batch.charges)


class FailingRows(Sequence[tuple]):
    """Rows that can only be read once, in order, and fail after ``good`` of them, as a
    provider streaming from its files would on a bad row there."""

    def __init__(self, rows: Sequence[tuple], good: int, error: Exception) -> None:
        self.rows, self.good, self.error = rows, good, error
        self.handed_out = 0
        self.iterations = 0

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        raise AssertionError("storing must stream the rows, not index them")

    def __iter__(self) -> Iterator[tuple]:
        self.iterations += 1
        for values in self.rows[: self.good]:
            self.handed_out += 1
            yield values
        raise self.error


def test_a_failure_in_a_later_chunk_stores_nothing_and_reports_the_providers_error(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connector.storage.db import Database

    monkeypatch.setattr(ingest_module, "STORE_CHUNK", 2)
    message = "cur.parquet: row 3, column line_item_unblended_cost: 'x' is not a number"
    rows = FailingRows([*TABLE.rows, *TABLE.rows], good=3, error=SourceDataError(message))
    table = ChargeTable(TABLE.contexts, TABLE.accounts, TABLE.dates, rows)
    db = Database(db_url)
    chunks: list[int] = []

    class Progress:
        stage = NO_PROGRESS.stage

        def advance(self, n: int = 1) -> None:
            chunks.append(n)

    with pytest.raises(SourceDataError) as raised, db.transaction() as session:
        session.add(m.Tenant(id="t", name="T", next_invoice_number=1))
        session.flush()
        batch = ChargeBatch(OCTOBER, "cur.parquet", "h", table)
        store_batch(session, "t", "aws", batch, Progress())  # type: ignore[arg-type]
    assert str(raised.value) == message
    assert chunks == [2] and rows.handed_out == 3 and rows.iterations == 1  # one chunk in
    with db.transaction() as session:
        assert session.scalars(select(m.ChargeBatch)).all() == []
        assert session.scalars(select(m.Charge)).all() == []
        assert session.get(m.Tenant, "t") is None
    assert schema_of_charges(db) == SCHEMA
    db.dispose()


@pytest.fixture
def folder_runtime(db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The example tenant, its aws provider reading ``tmp_path / "cur"``."""
    tenants = tmp_path / "tenants"
    shutil.copytree(REPO / "config/tenants", tenants)
    text = (tenants / "acme.yaml").read_text()
    (tenants / "acme.yaml").write_text(
        text.replace("../../connector/demo_data/aws", str(tmp_path / "cur"))
    )
    (tmp_path / "cur").mkdir()
    rt = open_runtime(
        DaemonSettings(database_url=db_url, tenants_dir=tenants, output_dir=tmp_path / "out")
    )
    yield rt
    rt.db.dispose()


def test_bad_text_in_a_later_period_stores_no_period_and_names_file_line_and_column(
    folder_runtime, tmp_path: Path
) -> None:
    shutil.copy(CUR, tmp_path / "cur" / "october.csv")
    path = write_cur(
        tmp_path / "cur" / "november.csv",
        [row(**NOVEMBER), row(account="2222\x0722222222", **NOVEMBER)],
    )
    with pytest.raises(SourceDataError) as raised:
        ingest(folder_runtime, "acme", "aws")
    assert str(raised.value).startswith(
        f"{path}: line 3, column lineItem/UsageAccountId holds the control character U+0007"
    )
    with folder_runtime.db.transaction() as session:
        assert session.scalars(select(m.ChargeBatch)).all() == []
        assert session.scalars(select(m.Charge)).all() == []


def test_rows_read_through_are_not_held_and_rows_never_read_are(tmp_path: Path) -> None:
    shutil.copy(CUR, tmp_path / "october.csv")
    write_cur(tmp_path / "november.csv", [row(**NOVEMBER)])
    provider = AwsCurProvider({"path": str(tmp_path)}, tmp_path)
    batches = provider.fetch()
    october = next(batches)
    assert sum(1 for _ in october.charges.rows) == 54  # streamed: read once
    november = next(batches)  # the provider moved on: October's rows are gone
    with pytest.raises(RuntimeError, match="no longer held"):
        list(october.charges)
    assert next(batches, None) is None  # the aggregate is closed; November was never read
    assert [c.billed_cost for c in november.charges] == [c.billed_cost for c in november.charges]
    assert len(list(november.charges)) == 1
