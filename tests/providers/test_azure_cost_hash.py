"""The azure provider's source hash follows the rows read, not the files' bytes.

A re-export with the same rows in another order, split into other files, compressed, or
with other line endings is recognised as unchanged; any change to what is ingested (a
cost, a day, an invoice id, one row more) gives a new hash.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

from connector_azure import AzureCostProvider

from connector.contracts import BillingPeriod
from tests.providers import azure_files as azure

# The EA sample's hash, computed when this test was written: a stored hash must not
# change when the code reading the export does (a new way of grouping, a new DuckDB), or
# every stored period would look re-exported.
EA_SAMPLE_HASH = "154a38f7d7df564f3e4027b6dbfa1f9d0c34ca9d189b669dceda6ffa2dcd43ec"


def hashes(folder: Path) -> dict[BillingPeriod, str]:
    provider = AzureCostProvider({"path": str(folder)}, folder)
    return {batch.period: batch.source_hash for batch in provider.fetch()}


def only_hash(folder: Path) -> str:
    [value] = hashes(folder).values()
    return value


def month_rows() -> list[dict[str, str]]:
    return [
        azure.mca_row(date="2026-10-01", costInBillingCurrency="1.1"),
        azure.mca_row(date="2026-10-01", costInBillingCurrency="2.2", subscriptionId="sub-b"),
        azure.mca_row(date="2026-10-02", costInBillingCurrency="3.3", meterName="D4 v3"),
        azure.mca_row(date="2026-10-03", costInBillingCurrency="0.000000000001"),
        azure.mca_row(date="2026-10-03", chargeType="Purchase", costInBillingCurrency="730"),
    ]


def test_ea_sample_rows_in_reverse_order_give_the_same_hash(tmp_path):
    azure.copy_ea_sample(tmp_path / "original")
    header, rows = azure.read_ea_sample()
    assert len(rows) == 11
    azure.write_csv(tmp_path / "reversed" / "ea.csv", list(reversed(rows)), header)
    # Not the same bytes (no BOM, rows moved), the same rows.
    assert (tmp_path / "reversed" / "ea.csv").read_bytes() != azure.EA_SAMPLE.read_bytes()
    assert only_hash(tmp_path / "reversed") == only_hash(tmp_path / "original")


def test_the_ea_sample_keeps_the_hash_it_was_stored_with(tmp_path):
    azure.copy_ea_sample(tmp_path)
    assert list(hashes(tmp_path).values()) == [EA_SAMPLE_HASH]


def test_rows_split_into_other_files_give_the_same_hash(tmp_path):
    rows = month_rows()
    azure.write_csv(tmp_path / "one" / "oct.csv", rows)
    azure.write_csv(tmp_path / "parts" / "part_0_0001.csv", rows[3:])
    azure.write_csv(tmp_path / "parts" / "part_1_0001.csv", rows[:3])
    [batch] = AzureCostProvider({"path": str(tmp_path / "parts")}, tmp_path).fetch()
    parts = tmp_path / "parts"
    assert batch.source == f"{parts / 'part_0_0001.csv'}, {parts / 'part_1_0001.csv'}"
    assert batch.source_hash == only_hash(tmp_path / "one")


def test_compression_line_endings_and_unread_columns_do_not_change_the_hash(tmp_path):
    rows = month_rows()
    azure.write_csv(tmp_path / "plain" / "oct.csv", rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=azure.MCA_HEADER, lineterminator="\n",
                            quoting=csv.QUOTE_ALL)  # fmt: skip
    writer.writeheader()
    # The subscription's display name is not read: renaming it changes no charge.
    writer.writerows({**row, "subscriptionName": "Renamed"} for row in rows)
    (tmp_path / "gz").mkdir()
    (tmp_path / "gz" / "oct.csv.gz").write_bytes(gzip.compress(buffer.getvalue().encode()))
    assert only_hash(tmp_path / "gz") == only_hash(tmp_path / "plain")


def test_every_change_to_what_is_ingested_changes_the_hash(tmp_path):
    rows = month_rows()
    azure.write_csv(tmp_path / "base" / "oct.csv", rows)
    base = only_hash(tmp_path / "base")
    variants = {
        "cost": [*rows[:4], {**rows[4], "costInBillingCurrency": "730.000000000001"}],
        "day": [{**rows[0], "date": "2026-10-02"}, *rows[1:]],
        "sku": [{**rows[0], "meterName": "D8 v3"}, *rows[1:]],
        "invoice id": [{**row, "invoiceId": "G002"} for row in rows],
        "one zero row more": [*rows, azure.mca_row(date="2026-10-01", costInBillingCurrency="0")],
        "one row less": rows[1:],
        "a row twice": [*rows, rows[2]],
    }
    seen = {base}
    for name, changed in variants.items():
        azure.write_csv(tmp_path / name / "oct.csv", changed)
        value = only_hash(tmp_path / name)
        assert value not in seen, name
        seen.add(value)


def test_a_period_hash_depends_on_its_own_rows_only(tmp_path):
    october = month_rows()
    azure.write_csv(tmp_path / "october" / "mca.csv", october)
    november = [azure.mca_row(date="2026-11-05", costInBillingCurrency="9")]
    azure.write_csv(tmp_path / "both" / "mca.csv", [*october, *november])
    alone = hashes(tmp_path / "october")
    together = hashes(tmp_path / "both")
    assert len(together) == 2
    for period, value in alone.items():
        assert together[period] == value
