"""The tenant's ``aws`` provider settings."""

from __future__ import annotations

from pathlib import PurePath

from pydantic import BaseModel, ConfigDict, Field, field_validator


class AwsSettings(BaseModel):
    """Where the legacy CUR files of one tenant are.

    ``path`` is the folder the CUR is delivered to (synced from S3, for example),
    relative to the tenant file's folder unless absolute. ``pattern`` is a glob below
    it; files it matches that end in ``.csv`` or ``.csv.gz`` are read.
    """

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="folder of legacy CUR files (.csv / .csv.gz)")
    pattern: str = Field(default="**/*.csv*", description="glob below path selecting the CUR files")

    @field_validator("path")
    @classmethod
    def _path_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name the folder the CUR files are in, e.g. data/aws-cur")
        return value

    @field_validator("pattern")
    @classmethod
    def _pattern_relative(cls, value: str) -> str:
        # pathlib's glob refuses absolute patterns; say so at check-config time instead.
        if not value or PurePath(value).is_absolute():
            raise ValueError("must be a relative glob below path, e.g. **/*.csv.gz")
        return value
