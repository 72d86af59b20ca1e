"""Billing Connector's UBL renderer: Peppol BIS Billing 3.0 invoices and credit notes."""
