"""What every pipeline stage, command, API request and daemon pass works with.

``runtime``: the daemon settings, the database, the loaded plugins and the tenant
files, opened once (:class:`~connector.runtime.runtime.Runtime`). ``tenants``: tenant
files mirrored into the database, and the tenant row lock. ``audit``: the audit trail
every change writes to and the CLI and API read. ``webhook_events``: the webhook
events a change records in its own transaction. ``periods``: which stored billing
period ``YYYY-MM`` names. Below ``connector.access`` and ``connector.pipeline``; it
imports neither.
"""
