"""The tenant's ``focus`` provider settings."""

from __future__ import annotations

from pathlib import PurePath

from pydantic import BaseModel, ConfigDict, Field, field_validator


class FocusSettings(BaseModel):
    """Where one tenant's FOCUS exports are.

    ``path`` is the folder the exports land in, relative to the tenant file's folder
    unless absolute; ``pattern`` is a glob below it, and matching ``.csv``, ``.csv.gz``
    and ``.parquet`` files are read. A period is final when every row has an
    ``InvoiceId`` (FOCUS 1.2); ``final: true`` marks every period final (for folders
    holding only invoiced months of FOCUS 1.0 / 1.1 exports, which have no invoice id).
    """

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="folder of FOCUS exports (.csv, .csv.gz, .parquet)")
    pattern: str = Field(default="**/*", description="glob below path selecting the files")
    final: bool = Field(default=False, description="the invoice exists for every period found")

    @field_validator("path")
    @classmethod
    def _path_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name the folder the exports are in, e.g. data/focus")
        return value

    @field_validator("pattern")
    @classmethod
    def _pattern_relative(cls, value: str) -> str:
        if not value or PurePath(value).is_absolute():
            raise ValueError("must be a relative glob below path, e.g. **/*.parquet")
        return value
