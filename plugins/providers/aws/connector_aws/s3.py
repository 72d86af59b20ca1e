"""Finding a Cost and Usage Report's current files in S3 through its manifests.

AWS delivers, per billing period, the report files and a manifest naming them:

* legacy CUR, keep-versions layout: ``<prefix>/<report>/<yyyymmdd-yyyymmdd>/
  <assemblyId>/<report>-00001.csv.gz``, every version in its own assembly folder, and
  ``<prefix>/<report>/<yyyymmdd-yyyymmdd>/<report>-Manifest.json`` naming the newest
  one's files in ``reportKeys`` (with its ``assemblyId`` and ``billingPeriod``);
* legacy CUR, overwrite layout: the same manifest, the files directly in the period
  folder (or, for Parquet/Athena, in ``<report>/year=YYYY/month=M/`` with the manifest);
* CUR 2.0 (Data Exports): ``<prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/...`` and
  ``<prefix>/<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json`` naming
  them in ``dataFiles`` (``s3://`` URIs), with ``executionId`` and ``billingPeriod``.

Only the files a period's current manifest names are downloaded: older report versions
lying beside them are never read (``identity/LineItemId`` changes between versions, so
they could not be told apart from new rows).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from connector.contracts import BillingPeriod, PluginError, SourceDataError
from connector_aws.settings import S3Report

# Where a manifest sits below <prefix>/<report>/, and the billing period it belongs to.
_LEGACY = r"(?P<y>\d{4})(?P<m>\d{2})\d{2}-\d{8}/(?P<sub>[^/]+/)?{name}-Manifest\.json"
_ATHENA = r"{name}/year=(?P<y>\d{4})/month=(?P<m>\d{1,2})/(?P<sub>[^/]+/)?{name}-Manifest\.json"
_CUR2 = r"metadata/BILLING_PERIOD=(?P<y>\d{4})-(?P<m>\d{2})/(?P<sub>.+/)?{name}-Manifest\.json"
READ_SUFFIXES = (".csv", ".csv.gz", ".parquet")


@dataclass(frozen=True, slots=True)
class ReportFile:
    """One report file downloaded from S3: where it is now, and its ``s3://`` name."""

    path: Path
    label: str


@dataclass(frozen=True, slots=True)
class _Manifest:
    key: str
    period: str  # YYYY-MM
    top_level: bool  # directly in the period folder (the current version's copy)
    modified: Any


def _uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def make_client(settings: S3Report) -> Any:
    """A boto3 S3 client for ``settings`` (boto3's default credential chain unless keys
    are given)."""
    import boto3  # imported here: local-folder tenants never need it loaded

    options: dict[str, Any] = {}
    if settings.region:
        options["region_name"] = settings.region
    if settings.endpoint_url:
        options["endpoint_url"] = settings.endpoint_url
    if settings.access_key_id and settings.secret_access_key:
        options["aws_access_key_id"] = settings.access_key_id
        options["aws_secret_access_key"] = settings.secret_access_key.get_secret_value()
    return boto3.client("s3", **options)


def _base(settings: S3Report) -> str:
    return "/".join(p for p in (settings.prefix, settings.report_name) if p) + "/"


def _find_manifests(client: Any, settings: S3Report) -> list[_Manifest]:
    """Every manifest below ``<prefix>/<report>/`` whose place says its billing period."""
    base = _base(settings)
    name = re.escape(settings.report_name)
    patterns = [re.compile(p.replace("{name}", name)) for p in (_LEGACY, _ATHENA, _CUR2)]
    found = []
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=settings.bucket, Prefix=base):
        for item in page.get("Contents", ()):
            relative = item["Key"][len(base) :]
            for pattern in patterns:
                match = pattern.fullmatch(relative)
                if match:
                    period = f"{match['y']}-{int(match['m']):02d}"
                    found.append(
                        _Manifest(item["Key"], period, match["sub"] is None, item["LastModified"])
                    )
                    break
    return found


def current_manifests(manifests: Sequence[_Manifest]) -> dict[str, _Manifest]:
    """Per billing period ``YYYY-MM``, the manifest of its current report version.

    That is the copy directly in the period folder, which AWS overwrites with each new
    version; where a period only has copies in version folders, the newest of those.
    """
    chosen: dict[str, _Manifest] = {}
    for manifest in manifests:
        best = chosen.get(manifest.period)
        if best is None or (manifest.top_level, manifest.modified) > (
            best.top_level,
            best.modified,
        ):
            chosen[manifest.period] = manifest
    return chosen


def report_keys(manifest: Mapping[str, Any], bucket: str, uri: str) -> list[tuple[str, str]]:
    """``(bucket, key)`` of every file a manifest names, in the order it names them.

    A legacy manifest lists keys in ``reportKeys``; a CUR 2.0 one lists ``s3://`` URIs
    in ``dataFiles``. Raises :class:`SourceDataError` for a manifest with neither.
    """
    if "reportKeys" in manifest:
        entries = manifest["reportKeys"]
    elif "dataFiles" in manifest:
        entries = manifest["dataFiles"]
    else:
        raise SourceDataError(
            f"{uri}: this manifest has neither reportKeys (legacy CUR) nor dataFiles "
            f"(CUR 2.0); it is not an AWS Cost and Usage Report manifest"
        )
    if not isinstance(entries, list) or not all(isinstance(e, str) and e for e in entries):
        raise SourceDataError(f"{uri}: reportKeys/dataFiles must be a list of S3 keys")
    keys = []
    for entry in entries:
        if entry.startswith("s3://"):
            other_bucket, _, key = entry[len("s3://") :].partition("/")
            keys.append((other_bucket, key))
        else:
            keys.append((bucket, entry))
    return keys


def _load_manifest(client: Any, bucket: str, key: str) -> dict[str, Any]:
    uri = _uri(bucket, key)
    body = _get(client, bucket, key, f"{uri}: the manifest could not be read")
    try:
        manifest = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceDataError(f"{uri}: the manifest is not JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise SourceDataError(f"{uri}: the manifest is not a JSON object")
    return manifest


def _get(client: Any, bucket: str, key: str, context: str) -> bytes:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        raise PluginError(f"{context}: {exc}") from None
    except BotoCoreError as exc:
        raise PluginError(f"{context}: {exc}") from None


def _download(client: Any, bucket: str, key: str, target: Path, manifest_uri: str) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    uri = _uri(bucket, key)
    try:
        client.download_file(bucket, key, str(target))
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchKey", "NotFound"):
            raise SourceDataError(
                f"{uri}: the manifest {manifest_uri} names this report file, but bucket "
                f"{bucket} has no object with key {key}; AWS may still be delivering the "
                f"report: nothing was ingested, the next run tries again"
            ) from None
        raise PluginError(f"{uri}: downloading the report file failed: {exc}") from None
    except BotoCoreError as exc:
        raise PluginError(f"{uri}: downloading the report file failed: {exc}") from None


def download_report(
    settings: S3Report, target: Path, period: BillingPeriod | None, client: Any = None
) -> list[ReportFile]:
    """Download the current version of every billing period's report files to ``target``.

    Only ``period`` when given. Files come back in period order, each period's in its
    manifest's order. Raises :class:`SourceDataError` for a manifest that names a missing
    object or is malformed (before anything is read), :class:`PluginError` when S3 cannot
    be reached or refuses access.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    client = client or make_client(settings)
    where = _uri(settings.bucket, _base(settings))
    try:
        manifests = current_manifests(_find_manifests(client, settings))
    except (ClientError, BotoCoreError) as exc:
        raise PluginError(f"{where}: listing the report's objects failed: {exc}") from None
    files: list[ReportFile] = []
    for month in sorted(manifests):
        if period is not None and month != period.key:
            continue
        manifest_key = manifests[month].key
        manifest_uri = _uri(settings.bucket, manifest_key)
        manifest = _load_manifest(client, settings.bucket, manifest_key)
        for bucket, key in report_keys(manifest, settings.bucket, manifest_uri):
            name = PurePosixPath(key).name
            if name.lower().endswith(".zip"):
                raise SourceDataError(
                    f"{_uri(bucket, key)}: ZIP-compressed CUR files are not read; set the "
                    f"report's compression to GZIP or Parquet"
                )
            if not name.lower().endswith(READ_SUFFIXES):
                continue  # e.g. a Redshift or Athena helper file
            local = target / f"{len(files):05d}-{name}"
            _download(client, bucket, key, local, manifest_uri)
            files.append(ReportFile(local, _uri(bucket, key)))
    return files
