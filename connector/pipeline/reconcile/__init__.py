"""Reconcile: what the provider billed the reseller against what statements charge.

Read-only. Enters: a tenant, provider and period's stored charges and statements.
Leaves: a reconciliation (margin per customer, unassigned accounts, rounding, provider
credits, drift since generation) from ``reconcile``, as rows, JSON and CSV files from
``report``.
"""
