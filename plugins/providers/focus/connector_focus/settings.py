"""The tenant's ``focus`` provider settings."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from connector.plugin_kit.settings import folder_setting, glob_setting


class FocusSettings(BaseModel):
    """Where one tenant's FOCUS exports are.

    ``path`` is the folder the exports land in, relative to the tenant file's folder
    unless absolute; ``pattern`` is a glob below it, and matching ``.csv``, ``.csv.gz``
    and ``.parquet`` files are read. A period is final when every row has an
    ``InvoiceId`` (FOCUS 1.2); ``final: true`` marks every period final (for folders
    holding only invoiced months of FOCUS 1.0 / 1.1 exports, which have no invoice id).
    """

    model_config = ConfigDict(extra="forbid")

    path: Annotated[str, folder_setting("the exports", "data/focus")] = Field(
        description="folder of FOCUS exports (.csv, .csv.gz, .parquet)"
    )
    pattern: Annotated[str, glob_setting("**/*.parquet")] = Field(
        default="**/*", description="glob below path selecting the files"
    )
    final: bool = Field(default=False, description="the invoice exists for every period found")
