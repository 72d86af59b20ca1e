"""Re-pulls of one period: which version of the provider's data is current.

The AWS folder is rewritten between ingests, as a re-delivered report would be.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from connector.contracts import SourceDataError
from connector.pipeline.ingest.ingest import ingest, make_provider, store_batch
from connector.storage import models as m
from tests.pipeline.conftest import CUR

FIRST_COST = "2.5978187600"  # demo00001's lineItem/UnblendedCost
INVOICE_ID = "EUINUS26-000123"


def deliver(runtime, folder: Path, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "cur.csv").write_text(text)
    runtime.tenants["acme"].providers["aws"].settings["path"] = str(folder)


def current(runtime) -> tuple[int, Decimal, list[tuple]]:
    """The period's current batch: id, billed total and its charges without ids."""
    with runtime.db.transaction() as session:
        batch = session.scalars(
            select(m.ChargeBatch).where(m.ChargeBatch.superseded_at.is_(None))
        ).one()
        charges = session.execute(
            select(
                m.Charge.sub_account_id,
                m.Charge.charge_category,
                m.Charge.service_name,
                m.Charge.sku,
                m.Charge.billed_cost,
            ).where(m.Charge.batch_id == batch.id)
        ).all()
        return batch.id, batch.billed_total, sorted(tuple(c) for c in charges)


def test_going_back_to_an_earlier_version_makes_it_current_again(runtime, tmp_path) -> None:
    """Version B bills one more dollar on demo00001 (2.59781876 -> 3.59781876); the
    provider then restores version A. A is current again, with its own total, and B is
    kept superseded; nothing is stored twice."""
    original = CUR.read_text()
    assert original.count(FIRST_COST) == 2  # the cost and the list cost of demo00001
    corrected = original.replace(FIRST_COST, "3.5978187600", 1)
    folder = tmp_path / "cur"

    deliver(runtime, folder, original)
    assert [r.status for r in ingest(runtime, "acme", "aws")] == ["new"]
    first_id, first_total, first_charges = current(runtime)
    deliver(runtime, folder, corrected)
    assert [r.status for r in ingest(runtime, "acme", "aws")] == ["replaced"]
    second_id, second_total, _ = current(runtime)
    assert second_total - first_total == Decimal("1")
    deliver(runtime, folder, original)
    assert [r.status for r in ingest(runtime, "acme", "aws")] == ["replaced"]

    assert current(runtime) == (first_id, first_total, first_charges)
    with runtime.db.transaction() as session:
        batches = session.scalars(select(m.ChargeBatch).order_by(m.ChargeBatch.id)).all()
        assert [b.id for b in batches] == [first_id, second_id]
        assert batches[1].superseded_at is not None
    assert [r.status for r in ingest(runtime, "acme", "aws")] == ["unchanged"]


def test_a_bad_repull_leaves_the_previous_version_current(runtime, tmp_path) -> None:
    """A re-delivered report cut off mid-row is refused; the good version stays."""
    original = CUR.read_text()
    folder = tmp_path / "cur"
    deliver(runtime, folder, original)
    ingest(runtime, "acme", "aws")
    before = current(runtime)

    lines = original.splitlines()
    deliver(runtime, folder, "\n".join(lines[:40] + [lines[40][:30]]) + "\n")
    with pytest.raises(SourceDataError, match=r"cur\.csv"):
        ingest(runtime, "acme", "aws")
    assert current(runtime) == before
    with runtime.db.transaction() as session:
        assert len(session.scalars(select(m.ChargeBatch)).all()) == 1


def test_new_line_item_ids_alone_change_no_charge(runtime, tmp_path) -> None:
    """AWS renumbers identity/LineItemId between report versions: the new version is
    stored (its bytes differ) but its charges are the same as before."""
    original = CUR.read_text()
    renumbered = original.replace("demo", "v2-")
    assert renumbered != original
    folder = tmp_path / "cur"
    deliver(runtime, folder, original)
    ingest(runtime, "acme", "aws")
    _, total_before, charges_before = current(runtime)
    deliver(runtime, folder, renumbered)
    assert [r.status for r in ingest(runtime, "acme", "aws")] == ["replaced"]
    _, total_after, charges_after = current(runtime)
    assert (total_after, charges_after) == (total_before, charges_before)


def test_the_same_data_said_final_later_turns_the_period_final(runtime, tmp_path) -> None:
    """Bytes unchanged, but the provider now says the period is final (for Azure: the
    tenant turns ``final: true`` on): nothing new is stored, the flag is."""
    folder = tmp_path / "cur"
    deliver(runtime, folder, CUR.read_text().replace(INVOICE_ID, ""))
    assert [r.status for r in ingest(runtime, "acme", "aws")] == ["new"]

    def final() -> bool:
        with runtime.db.transaction() as session:
            return session.scalars(select(m.ChargeBatch.final)).one()

    assert final() is False
    provider = make_provider(runtime, "acme", "aws")
    (batch,) = provider.fetch()
    with runtime.db.transaction() as session:
        result = store_batch(session, "acme", "aws", replace(batch, final=True))
    assert result.status == "unchanged"
    assert final() is True
