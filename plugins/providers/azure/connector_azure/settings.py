"""The tenant's ``azure`` provider settings."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


def billing_day_field() -> Any:
    """The ``billing_day`` setting both Azure providers take (the core fills it in from
    the tenant's ``invoice_options.azure_billing_day`` when it is left out)."""
    return Field(
        default=31,
        ge=1,
        le=31,
        description=(
            "Azure Billing Day: the day a period ends (1..31); default: the tenant's "
            "invoice_options.azure_billing_day"
        ),
    )


class AzureSettings(BaseModel):
    """Where one tenant's Azure cost-details exports are, and how its periods run.

    ``path`` is the folder the exports land in (synced from the storage account, for
    example), relative to the tenant file's folder unless absolute. ``pattern`` is a glob
    below it; matching files ending in ``.csv`` or ``.csv.gz`` are read.

    ``billing_day`` is the tenant's Azure Billing Day D (given by the core from
    ``invoice_options.azure_billing_day`` unless set here): a period ends on day D (clamped to
    the month's length) and starts the day after the previous one ended. ``final`` says the
    invoice exists for the data in the folder. A period whose rows all carry an MCA
    ``InvoiceId`` is final anyway; EA exports carry none, so without the setting their
    periods close by the operator's signal or after the business days.
    """

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="folder of Azure cost-details exports (.csv / .csv.gz)")
    pattern: str = Field(default="**/*.csv*", description="glob below path selecting the files")
    billing_day: int = billing_day_field()
    final: bool = Field(
        default=False,
        description="the invoice exists for the files in the folder (periods whose rows all "
        "carry an InvoiceId are final anyway)",
    )

    @field_validator("path")
    @classmethod
    def _path_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name the folder the exports are in, e.g. data/azure-cost")
        return value

    @field_validator("pattern")
    @classmethod
    def _pattern_relative(cls, value: str) -> str:
        if not value or PurePath(value).is_absolute():
            raise ValueError("must be a relative glob below path, e.g. **/*.csv")
        return value
