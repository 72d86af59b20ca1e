"""An Azure cost-details charge's fields, from what it shares with many (its context).

A period's charges go to the core as a table (see the plugin kit's
:func:`~connector.plugin_kit.charge_tables.period_table`): what follows from the charge
type and the publisher is worked out once per context, not per charge.
"""

from __future__ import annotations

from connector_azure.charge_types import charge_category, publisher


def context_fields(context: tuple) -> tuple:
    """The :data:`~connector.contracts.CHARGE_CONTEXT_FIELDS` values of one context: what
    many charges of a period share, ``query.GRAIN`` but the subscription, in its order."""
    (
        account,
        charge_type,
        service,
        sku,
        currency,
        publisher_type,
        publisher_name,
        invoice_id,
    ) = context
    category, charge_class = charge_category(charge_type)
    publisher_label, is_marketplace = publisher(publisher_type, publisher_name)
    return (
        account,
        category,
        charge_class,
        service,
        service,
        sku,
        currency,
        publisher_label,
        is_marketplace,
        invoice_id or None,
        charge_type,
        None,
    )
