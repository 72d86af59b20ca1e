"""Access control: who may call the billing API, and the ERP's credentials at rest.

``api_keys``: billing API keys made, stored as a hash, verified and revoked.
``users``: people who sign in to the web pages; ``roles``: what a new key or user may
act as; ``standing``: whether a web session's key or user still stands.
``tokens``: the tenant's ERP OAuth tokens, encrypted at rest and refreshed under a lock
per organisation. Used by the API, the CLI and the publish stage's ERP sinks; it uses
only ``connector.runtime`` and the storage.
"""
