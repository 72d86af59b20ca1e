"""The tenant's ``azure`` provider settings."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from connector.plugin_kit.settings import folder_setting, glob_setting


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

    path: Annotated[str, folder_setting("the exports", "data/azure-cost")] = Field(
        description="folder of Azure cost-details exports (.csv / .csv.gz)"
    )
    pattern: Annotated[str, glob_setting("**/*.csv")] = Field(
        default="**/*.csv*", description="glob below path selecting the files"
    )
    billing_day: int = billing_day_field()
    final: bool = Field(
        default=False,
        description="the invoice exists for the files in the folder (periods whose rows all "
        "carry an InvoiceId are final anyway)",
    )
