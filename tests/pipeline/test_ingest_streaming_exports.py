"""Issue 24: the azure and focus providers hand a period's charges as a table whose rows
stream from DuckDB while the core stores them, as the aws provider does
(test_ingest_streaming.py).

What is stored is what storing the same charges as a list stores; rows read through are
not held; text the database cannot hold is refused before any period is yielded, naming
the value the check of every charge in order would name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from connector_azure import AzureCostProvider
from connector_focus import FocusProvider

from connector.contracts import ChargeBatch, ChargeTable, SourceDataError
from connector.pipeline.ingest import ingest as ingest_module
from connector.pipeline.ingest.ingest import store_batch
from connector.plugin_kit import charge_tables
from connector.progress import NO_PROGRESS
from connector.storage import models as m
from connector.storage.db import Database
from tests.providers import azure_files
from tests.providers.focus_files import FOCUS_10, read_rows
from tests.providers.focus_files import write_csv as write_focus

# Stored columns, money last: compared as Decimal (SQLite keeps the text it was given:
# "0.000000000000" from a table, "0E-12" from a Decimal; the same amount).
TEXT = (
    "billing_account_id, sub_account_id, charge_category, charge_class, service_name, "
    "service_category, sku, publisher, is_marketplace, billing_currency, "
    "charge_period_start, charge_period_end, invoice_id, line_item_type, charge_frequency"
)
MONEY = "billed_cost, list_cost, quantity"


def azure_folder(folder: Path, bad: dict[int, dict[str, str]] | None = None) -> Path:
    """October and November of three subscriptions, a zero cost and a Marketplace row;
    ``bad`` replaces fields of rows by index."""
    rows = [
        azure_files.mca_row(subscriptionId=f"sub-{s}", date=f"2026-{month}-0{day}",
                            costInBillingCurrency=cost, meterName=meter)
        for s in "cab" for month in ("10", "11") for day in (3, 4)
        for meter, cost in (("D2 v3", "0.1"), ("D4 v3", "0"), ("E2 v3", "1.234567890123"))
    ]  # fmt: skip
    rows.append(azure_files.mca_row(publisherType="Marketplace", publisherName="Contoso"))
    rows.append(azure_files.mca_row(date="2026-11-09", invoiceId="G1", chargeType="Purchase"))
    for index, fields in (bad or {}).items():
        rows[index] = {**rows[index], **fields}
    azure_files.write_csv(folder / "azure.csv", rows)
    return folder / "azure.csv"


def focus_folder(folder: Path, bad: dict[int, dict[str, str]] | None = None) -> Path:
    """The FOCUS 1.0 fixture (October and November); ``bad`` replaces fields of rows."""
    header, rows = read_rows(FOCUS_10)
    for index, fields in (bad or {}).items():
        rows[index] = {**rows[index], **fields}
    return write_focus(folder / "focus.csv", header, rows)


PROVIDERS: dict[str, tuple[type, Callable[..., Path]]] = {
    "azure": (AzureCostProvider, azure_folder),
    "focus": (FocusProvider, focus_folder),
}


def provider_of(name: str, folder: Path):  # type: ignore[no-untyped-def]
    provider_class, _ = PROVIDERS[name]
    return provider_class({"path": str(folder)}, folder)


def stored(db: Database, provider: str) -> dict[dt.date, tuple]:
    """Per period: the batch's row count and billed total, and its charges as stored
    (money as Decimal), sorted."""
    found = {}
    with db.transaction() as session:
        for batch in session.query(m.ChargeBatch).filter_by(provider=provider):
            rows = session.connection().exec_driver_sql(
                f"SELECT {TEXT}, {MONEY} FROM charges WHERE batch_id = {int(batch.id)}"
            )
            charges = sorted(
                ((*row[:-3], *(Decimal(str(v)) for v in row[-3:])) for row in rows), key=repr
            )
            found[batch.period_start] = (batch.row_count, batch.billed_total, charges)
    return found


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_streamed_period_stores_what_its_charges_as_a_list_store(
    name: str, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "STORE_CHUNK", 2)
    monkeypatch.setattr(charge_tables, "FETCH_ROWS", 3)
    PROVIDERS[name][1](tmp_path)
    db = Database(db_url)
    with db.transaction() as session:
        session.add(m.Tenant(id="t", name="T", next_invoice_number=1))
    streamed = 0
    for batch in provider_of(name, tmp_path).fetch():
        assert isinstance(batch.charges, ChargeTable)
        with db.transaction() as session:
            store_batch(session, "t", "streamed", batch, NO_PROGRESS)
        streamed += 1
    for batch in list(provider_of(name, tmp_path).fetch()):
        charges = list(batch.charges)  # CanonicalCharges, stored one by one
        assert not isinstance(charges, ChargeTable)
        listed = ChargeBatch(batch.period, batch.source, batch.source_hash, charges)
        with db.transaction() as session:
            store_batch(session, "t", "listed", listed, NO_PROGRESS)
    by_stream, by_list = stored(db, "streamed"), stored(db, "listed")
    db.dispose()
    assert streamed == len(by_stream) == 2
    assert by_stream == by_list
    for count, billed_total, charges in by_stream.values():
        assert count == len(charges)
        assert billed_total == sum(charge[-3] for charge in charges)
    assert max(count for count, _, _ in by_stream.values()) > 2  # more than one chunk


@pytest.mark.parametrize("name", PROVIDERS)
def test_rows_read_through_are_not_held_and_rows_never_read_are(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(charge_tables, "FETCH_ROWS", 2)
    PROVIDERS[name][1](tmp_path)
    batches = provider_of(name, tmp_path).fetch()
    october = next(batches)
    rows = october.charges.rows
    reading = iter(rows)
    next(reading)
    assert not rows.held  # fetched a chunk at a time, not kept
    assert 1 + sum(1 for _ in reading) == len(rows) > 2
    november = next(batches)  # the provider moved on: October's rows are gone
    with pytest.raises(RuntimeError, match="no longer held"):
        list(october.charges)
    assert next(batches, None) is None  # the aggregate is closed; November was never read
    assert list(november.charges) == list(november.charges)
    assert len(list(november.charges)) == len(november.charges) > 0


# Per provider: a control character in a November row's account (October's rows are
# fine), and two bad values in one period where the charge holding the bad account comes
# first, though a context (holding the bad SKU) is checked before any account:
# (replaced fields by row, the line and column named, the character).
BAD = {
    "azure": (
        ({7: {"subscriptionId": "sub-\x07z"}}, 9, "subscriptionId", "U+0007"),
        ({18: {"subscriptionId": "sub-0\x07"}, 7: {"meterName": "D4 v3\x01"}}, 20,
         "subscriptionId", "U+0007"),
    ),
    "focus": (
        ({7: {"SubAccountId": "4444\x07"}}, 9, "SubAccountId", "U+0007"),
        ({3: {"SubAccountId": "4444\x07"}, 2: {"SkuId": "S3\x01STD"}}, 5, "SubAccountId",
         "U+0007"),
    ),
}  # fmt: skip


@pytest.mark.parametrize(("name", "case"), [(n, c) for n in BAD for c in (0, 1)])
def test_bad_text_yields_no_batch_and_names_the_first_charges_file_line_and_column(
    name: str, case: int, tmp_path: Path
) -> None:
    bad, line, column, code = BAD[name][case]
    path = PROVIDERS[name][1](tmp_path, bad)
    batches = provider_of(name, tmp_path).fetch()
    with pytest.raises(SourceDataError) as raised:
        next(batches)
    assert str(raised.value).startswith(
        f"{path}: line {line}, column {column} holds the control character {code}"
    )
