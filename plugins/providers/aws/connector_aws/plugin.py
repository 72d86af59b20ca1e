"""Entry point of the ``billing-connector-aws`` distribution (group ``billing_connector``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector.contracts import hookimpl
from connector_aws.cur import AwsCurProvider

if TYPE_CHECKING:
    from connector.registries import ProviderRegistry


@hookimpl
def connector_register_providers(registry: ProviderRegistry) -> None:
    """Register the Cost and Usage Report reader as provider ``aws``."""
    registry.add(AwsCurProvider)
