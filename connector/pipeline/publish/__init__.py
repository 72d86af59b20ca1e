"""Publish: approved statements rendered, delivered to the ERP, announced by email.

Enters: Open statements and their outbox rows. Leaves: files in every format a
renderer plugin offers (``publish.export``); outbox entries delivered exactly once
through the tenant's ERP sink (``publish.push``, with ``erp`` making and checking the
sink), or failed and retried, or dead and kept for a person (``outbox`` lists and
retries them); an email to each customer's billing contact (``notify``); the
recorded webhook events POSTed, signed, to the tenant's endpoints (``webhooks``).
"""
