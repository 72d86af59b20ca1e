"""The tenant's ``azure-csp`` provider settings."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from connector.plugin_kit.settings import folder_setting, glob_setting
from connector_azure.settings import billing_day_field


class AzureCspSettings(BaseModel):
    """Where one tenant's Partner Center reconciliation files are, and how periods run.

    ``path`` is the folder the files land in (downloaded from Partner Center, or the blobs
    of the billed invoice reconciliation API v2), relative to the tenant file's folder
    unless absolute. ``pattern`` is a glob below it; matching ``.csv``, ``.csv.gz``,
    ``.json``, ``.jsonl``, ``.json.gz`` and ``.jsonl.gz`` files are read.

    ``billing_day`` is the tenant's Azure Billing Day D (given by the core from
    ``invoice_options.azure_billing_day`` unless set here) (1..31, default 31). A period is
    final when every row in it carries an ``InvoiceNumber`` (billed reconciliation files
    always do); ``final: true`` marks every period final regardless.
    """

    model_config = ConfigDict(extra="forbid")

    path: Annotated[str, folder_setting("the reconciliation files", "data/csp")] = Field(
        description="folder of Partner Center invoice reconciliation files"
    )
    pattern: Annotated[str, glob_setting("**/*.jsonl.gz")] = Field(
        default="**/*", description="glob below path selecting the files"
    )
    billing_day: int = billing_day_field()
    final: bool = Field(
        default=False, description="treat every period as invoiced, even rows without InvoiceNumber"
    )
