"""Billing Connector's QuickBooks Online sink: statements become invoices, each exactly once."""
