"""Billing Connector's CSV renderer: the customer CSV and the detailed CSV of a statement."""
