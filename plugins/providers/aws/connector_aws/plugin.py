"""Entry point of the ``billing-connector-aws`` distribution (group ``billing_connector``)."""

from __future__ import annotations

from connector.contracts import hookimpl
from connector_aws.cur import AwsCurProvider


@hookimpl
def connector_register_providers(registry) -> None:
    """Register the legacy CUR reader as provider ``aws``."""
    registry.add(AwsCurProvider)
