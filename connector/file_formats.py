"""Recognising a billing file by its column names, to say what a wrong file looks like.

A folder synced from several places easily collects another provider's export; "missing
columns X, Y, Z" is then less helpful than "this is an AWS CUR file". Shared by the
providers that read files, so that each names the others' formats the same way.
"""

from __future__ import annotations

from collections.abc import Iterable

AWS_CUR = "an AWS Cost and Usage Report (legacy CUR)"
AWS_CUR2 = "an AWS CUR 2.0 / Data Exports file"
AZURE_COST = "an Azure EA / MCA cost-details export (provider azure)"
AZURE_CSP = "a Partner Center (CSP) invoice reconciliation file (provider azure-csp)"
FOCUS = "a FOCUS cost export (provider focus)"


def looks_like(names: Iterable[str]) -> str | None:
    """What a file with these column names looks like, or ``None`` if nothing known."""
    folded = {name.strip().casefold() for name in names}
    if any(name.startswith(("lineitem/", "bill/")) for name in folded):
        return AWS_CUR
    if {"line_item_line_item_type", "line_item_unblended_cost"} & folded:
        return AWS_CUR2
    if {"billedcost", "chargecategory"} <= folded:
        return FOCUS
    if {"partnerid", "customerid", "chargetype", "subtotal"} <= folded:
        return AZURE_CSP
    if "metercategory" in folded and {"costinbillingcurrency", "cost"} & folded:
        return AZURE_COST
    return None
