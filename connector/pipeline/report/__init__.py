"""Report: billing reports live from the stored charges, beside the statements.

Read-only. Enters: a tenant, provider and date range (``range``). Leaves: cost, price
and margin per customer, cloud account, service category or usage type (``report``,
grouping in the database with ``sql`` and pricing with ``lines``), as rows, CSV and
JSON (``output``).
"""
