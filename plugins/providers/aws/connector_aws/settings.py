"""The tenant's ``aws`` provider settings."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from connector.plugin_kit.settings import folder_setting, glob_setting


class S3Report(BaseModel):
    """Where AWS delivers the report in S3, and how to reach it.

    ``report_name`` is the legacy CUR's report name or the CUR 2.0 data export's name.
    Credentials come from boto3's default chain (environment, profile, instance role)
    unless ``access_key_id`` and ``secret_access_key`` are both given (already-resolved
    secrets: the tenant file refers to them, it never holds them inline).
    """

    # Validation messages never echo input: a secret must not reach a log.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    bucket: str = Field(min_length=3, description="the S3 bucket the report is delivered to")
    prefix: str = Field(default="", description="the report's S3 path prefix, may be empty")
    report_name: str = Field(min_length=1, description="report (legacy) or export (CUR 2.0) name")
    region: str | None = Field(default=None, description="the bucket's region, e.g. us-east-1")
    endpoint_url: str | None = Field(default=None, description="an S3-compatible endpoint")
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None

    @field_validator("prefix")
    @classmethod
    def _strip_slashes(cls, value: str) -> str:
        return value.strip("/")

    @field_validator("report_name")
    @classmethod
    def _report_name_plain(cls, value: str) -> str:
        if "/" in value or not value.strip():
            raise ValueError("must be the report's name alone (no slashes); put paths in prefix")
        return value

    @model_validator(mode="after")
    def _both_keys_or_neither(self) -> S3Report:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError(
                "give both access_key_id and secret_access_key, or neither to use the "
                "default AWS credential chain"
            )
        return self


class AwsSettings(BaseModel):
    """Where one tenant's Cost and Usage Report is: a local folder or an S3 delivery.

    ``path`` is the folder the report is delivered to (synced from S3, for example),
    relative to the tenant file's folder unless absolute; ``pattern`` is a glob below it,
    and matching files ending in ``.csv``, ``.csv.gz`` or ``.parquet`` are read. ``s3``
    instead follows the report's manifests in its bucket. Exactly one of the two is set.
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    path: Annotated[str, folder_setting("the CUR files", "data/aws-cur")] | None = Field(
        default=None, description="folder of CUR files (.csv / .csv.gz / .parquet)"
    )
    pattern: Annotated[str, glob_setting("**/*.csv.gz")] = Field(
        default="**/*", description="glob below path selecting the CUR files"
    )
    s3: S3Report | None = Field(default=None, description="the report's S3 delivery")

    @model_validator(mode="after")
    def _exactly_one_source(self) -> AwsSettings:
        if (self.path is None) == (self.s3 is None):
            raise ValueError(
                "set exactly one of path (a local folder of CUR files) and s3 "
                "(bucket, prefix, report_name of the report's S3 delivery)"
            )
        return self
