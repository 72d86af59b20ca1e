"""SoftLayer (IBM Cloud classic) provider plugin for Billing Connector: account invoices."""

from connector_softlayer.periods import invoice_period, period_of
from connector_softlayer.provider import SoftLayerProvider
from connector_softlayer.settings import SoftLayerSettings

__all__ = ["SoftLayerProvider", "SoftLayerSettings", "invoice_period", "period_of"]
