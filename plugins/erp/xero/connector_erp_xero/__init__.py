"""Billing Connector's Xero ERP sink: sales invoices through xero-python, each created once."""
