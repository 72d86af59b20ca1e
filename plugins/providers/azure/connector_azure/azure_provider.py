"""What the two Azure providers (``azure`` and ``azure-csp``) declare alike."""

from __future__ import annotations

from typing import ClassVar

from connector_azure.charge_types import AZURE_MARKETPLACE


class AzureCharges:
    """A mixin of the Azure providers: their Marketplace, and their invoice option.

    Products published by anyone but Microsoft are Azure Marketplace products; the
    pricebook prices them unless the tenant passes them through at cost. The tenant's
    invoice option is the Azure Billing Day unless the provider's settings name one.
    """

    marketplace_name: ClassVar[str] = AZURE_MARKETPLACE
    invoice_option_settings: ClassVar[dict[str, str]] = {"billing_day": "azure_billing_day"}
