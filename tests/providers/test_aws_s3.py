"""The aws provider reading a report from S3 (moto) by following its manifests."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from connector_aws import AwsCurProvider
from moto import mock_aws

from connector.contracts import BillingPeriod, ChargeBatch, SourceDataError
from tests.providers.aws_cur2_files import CUR2_HEADER, cur2_row, write_parquet
from tests.providers.cur_files import HEADER, NOVEMBER, row

BUCKET = "reseller-billing"
PREFIX = "cur/payer-1"
REPORT = "hourly"
BASE = f"{PREFIX}/{REPORT}"
OCTOBER_FOLDER = f"{BASE}/20261001-20261101"
OCTOBER = BillingPeriod(dt.date(2026, 10, 1), dt.date(2026, 11, 1))
NOVEMBER_PERIOD = BillingPeriod(dt.date(2026, 11, 1), dt.date(2026, 12, 1))


@pytest.fixture
def s3(monkeypatch):
    # moto answers every request in-process: no network, and no real credentials.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def fetch(tmp_path: Path, period: BillingPeriod | None = None, **s3: str) -> list[ChargeBatch]:
    settings = {"bucket": BUCKET, "prefix": PREFIX, "report_name": REPORT, "region": "us-east-1"}
    return list(AwsCurProvider({"s3": {**settings, **s3}}, tmp_path).fetch(period))


def put_cur(client, key: str, rows) -> None:
    """Upload a legacy CUR CSV.gz built from ``rows``."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=HEADER)
    writer.writeheader()
    writer.writerows(rows)
    client.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(out.getvalue().encode()))


def legacy_manifest(assembly: str, keys: list[str]) -> bytes:
    """A legacy CUR manifest as AWS writes it (the fields this plugin and readers use)."""
    return json.dumps(
        {
            "assemblyId": assembly,
            "account": "900000000001",
            "columns": [{"category": "lineItem", "name": "UnblendedCost", "type": "BigDecimal"}],
            "charset": "UTF-8",
            "compression": "GZIP",
            "contentType": "text/csv",
            "reportId": "f0e1d2c3",
            "reportName": REPORT,
            "billingPeriod": {"start": "20261001T000000.000Z", "end": "20261101T000000.000Z"},
            "bucket": BUCKET,
            "reportKeys": keys,
            "additionalArtifactKeys": [],
        }
    ).encode()


def deliver_version(client, assembly: str, files: dict[str, list]) -> list[str]:
    """Deliver one report version in the keep-versions layout; returns its keys."""
    keys = []
    for name, rows in files.items():
        key = f"{OCTOBER_FOLDER}/{assembly}/{name}"
        put_cur(client, key, rows)
        keys.append(key)
    manifest = legacy_manifest(assembly, keys)
    client.put_object(
        Bucket=BUCKET, Key=f"{OCTOBER_FOLDER}/{assembly}/{REPORT}-Manifest.json", Body=manifest
    )
    client.put_object(Bucket=BUCKET, Key=f"{OCTOBER_FOLDER}/{REPORT}-Manifest.json", Body=manifest)
    return keys


def test_keep_versions_layout_reads_only_the_newest_version_and_turns_final(s3, tmp_path):
    first = deliver_version(
        s3,
        "a1111111-0000-0000-0000-000000000001",
        {
            f"{REPORT}-00001.csv.gz": [row(cost="1.5", invoice="")],
            f"{REPORT}-00002.csv.gz": [row(cost="2.25", invoice="", account="222222222222")],
        },
    )
    (batch,) = fetch(tmp_path)
    assert batch.period == OCTOBER and batch.final is False
    assert sum(c.billed_cost for c in batch.charges) == Decimal("3.75")  # 1.5 + 2.25
    assert batch.source == ", ".join(f"s3://{BUCKET}/{k}" for k in first)

    # AWS finalises the month: a new assembly with invoice ids and a late charge. The old
    # assembly stays in the bucket; summing both would double the bill.
    second = deliver_version(
        s3,
        "b2222222-0000-0000-0000-000000000002",
        {
            f"{REPORT}-00001.csv.gz": [row(cost="1.5"), row(cost="0.0000000004")],
            f"{REPORT}-00002.csv.gz": [row(cost="2.25", account="222222222222")],
        },
    )
    (final,) = fetch(tmp_path)
    assert final.final is True
    assert sum(c.billed_cost for c in final.charges) == Decimal("3.7500000004")
    assert final.source == ", ".join(f"s3://{BUCKET}/{k}" for k in second)
    assert final.source_hash != batch.source_hash
    assert {c.invoice_id for c in final.charges} == {"EUINUS26-000001"}


def test_overwrite_layout_reads_the_files_beside_the_manifest(s3, tmp_path):
    key = f"{OCTOBER_FOLDER}/{REPORT}-00001.csv.gz"
    put_cur(s3, key, [row(cost="4.2")])
    s3.put_object(
        Bucket=BUCKET,
        Key=f"{OCTOBER_FOLDER}/{REPORT}-Manifest.json",
        Body=legacy_manifest("c3333333", [key]),
    )
    (batch,) = fetch(tmp_path)
    assert [c.billed_cost for c in batch.charges] == [Decimal("4.2")]
    assert batch.source == f"s3://{BUCKET}/{key}"


def test_static_keys_from_settings_are_used(s3, tmp_path, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    deliver_version(s3, "a1", {f"{REPORT}-00001.csv.gz": [row(cost="1")]})
    (batch,) = fetch(tmp_path, access_key_id="AKIDEXAMPLE", secret_access_key="resolved-secret")
    assert [c.billed_cost for c in batch.charges] == [Decimal(1)]


def cur2_manifest(period: str, execution: str, uris: list[str]) -> bytes:
    start = dt.date.fromisoformat(f"{period}-01")
    end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return json.dumps(
        {
            "version": "1",
            "exportArn": "arn:aws:bcm-data-exports:us-east-1:900000000001:export/hourly-1",
            "exportName": REPORT,
            "executionId": execution,
            "billingPeriod": {
                "start": f"{start.isoformat()}T00:00:00.000Z",
                "end": f"{end.isoformat()}T00:00:00.000Z",
            },
            "dataFiles": uris,
            "totalRowCount": 1,
        }
    ).encode()


def deliver_cur2(client, tmp_path: Path, period: str, rows, execution: str = "e-1") -> str:
    local = write_parquet(tmp_path / "upload" / f"{period}.parquet", rows, CUR2_HEADER)
    key = f"{BASE}/data/BILLING_PERIOD={period}/{REPORT}-00001.snappy.parquet"
    client.put_object(Bucket=BUCKET, Key=key, Body=local.read_bytes())
    uri = f"s3://{BUCKET}/{key}"
    client.put_object(
        Bucket=BUCKET,
        Key=f"{BASE}/metadata/BILLING_PERIOD={period}/{REPORT}-Manifest.json",
        Body=cur2_manifest(period, execution, [uri]),
    )
    return uri


def test_cur2_data_export_layout_is_followed_per_billing_period(s3, tmp_path):
    october = deliver_cur2(s3, tmp_path, "2026-10", [cur2_row(cost="0.1"), cur2_row(cost="0.2")])
    november = deliver_cur2(s3, tmp_path, "2026-11", [cur2_row(cost="5", invoice="", **NOVEMBER)])
    first, second = fetch(tmp_path / "work")
    assert (first.period, first.final, first.source) == (OCTOBER, True, october)
    assert sum(c.billed_cost for c in first.charges) == Decimal("0.3")  # not 0.30000000000000004
    assert (second.period, second.final, second.source) == (NOVEMBER_PERIOD, False, november)
    # Asking for one period downloads and reads only that period's files.
    (only,) = fetch(tmp_path / "work", period=NOVEMBER_PERIOD)
    assert only.source == november


def test_manifest_naming_a_missing_object_stores_nothing_and_names_it(s3, tmp_path):
    keys = deliver_version(s3, "a1", {f"{REPORT}-00001.csv.gz": [row()]})
    missing = f"{OCTOBER_FOLDER}/a1/{REPORT}-00002.csv.gz"
    s3.put_object(
        Bucket=BUCKET,
        Key=f"{OCTOBER_FOLDER}/{REPORT}-Manifest.json",
        Body=legacy_manifest("a1", [*keys, missing]),
    )
    provider = AwsCurProvider(
        {"s3": {"bucket": BUCKET, "prefix": PREFIX, "report_name": REPORT}}, tmp_path
    )
    batches = provider.fetch()
    with pytest.raises(SourceDataError) as caught:
        next(batches)
    message = str(caught.value)
    assert f"s3://{BUCKET}/{missing}" in message and f"bucket {BUCKET}" in message
    assert "Manifest.json" in message


def test_bad_data_in_a_downloaded_file_names_its_s3_key_and_line(s3, tmp_path):
    keys = deliver_version(s3, "a1", {f"{REPORT}-00001.csv.gz": [row(), row(cost="1.2.3")]})
    with pytest.raises(SourceDataError) as caught:
        fetch(tmp_path)
    message = str(caught.value)
    assert f"s3://{BUCKET}/{keys[0]}: line 3" in message and "lineItem/UnblendedCost" in message


def test_no_manifest_yet_yields_nothing(s3, tmp_path):
    put_cur(s3, f"{OCTOBER_FOLDER}/a1/{REPORT}-00001.csv.gz", [row()])
    assert fetch(tmp_path) == []


def test_a_manifest_that_is_not_json_is_reported(s3, tmp_path):
    s3.put_object(Bucket=BUCKET, Key=f"{OCTOBER_FOLDER}/{REPORT}-Manifest.json", Body=b"<html>")
    with pytest.raises(SourceDataError, match="Manifest.json: the manifest is not JSON"):
        fetch(tmp_path)
