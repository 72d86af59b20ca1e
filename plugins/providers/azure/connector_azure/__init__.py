"""Azure provider plugin for Billing Connector: EA and MCA cost-details exports."""

from connector_azure.cost import AzureCostProvider
from connector_azure.periods import period_of
from connector_azure.settings import AzureSettings

__all__ = ["AzureCostProvider", "AzureSettings", "period_of"]
