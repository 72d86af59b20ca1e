"""Azure provider plugin for Billing Connector: EA / MCA cost-details exports (``azure``)
and Partner Center CSP invoice reconciliation files (``azure-csp``)."""

from connector_azure.cost import AzureCostProvider
from connector_azure.csp import AzureCspProvider
from connector_azure.csp_settings import AzureCspSettings
from connector_azure.periods import period_of
from connector_azure.settings import AzureSettings

__all__ = [
    "AzureCostProvider",
    "AzureCspProvider",
    "AzureCspSettings",
    "AzureSettings",
    "period_of",
]
