"""Billing Connector: cloud billing data to customer statements and accounting systems."""

__version__ = "0.1.0"
