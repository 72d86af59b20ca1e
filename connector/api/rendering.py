"""A statement rendered for download, in its own currency or converted for viewing."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from connector.access.api_keys import Principal
from connector.api.conversion import convert_document
from connector.api.errors import Conflict, NotFound
from connector.api.queries import get_visible
from connector.config.rates import tenant_rates
from connector.contracts import PluginError, StatementDocument
from connector.pipeline.build.documents import statement_document
from connector.pipeline.publish.erp import renderer_for
from connector.pipeline.publish.export import statement_basename
from connector.runtime.runtime import Runtime

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "detailed-csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "ubl": "application/xml",
}
# The detailed CSV lists the provider's cost next to the price: the reseller's margin,
# which is not the customer's to see. A customer gets it with every cost left blank.
COSTS_HIDDEN_FROM_CUSTOMERS = {"detailed-csv"}


def without_costs(document: StatementDocument) -> StatementDocument:
    """``document`` as a customer may read it: the provider's cost of every line and
    detail row left out (``None``, an empty cell), the prices as they are."""
    return replace(
        document,
        lines=[replace(line, cost=None) for line in document.lines],
        details=[row._replace(cost=None) for row in document.details],
    )


@dataclass(frozen=True, slots=True)
class Rendered:
    content: bytes
    media_type: str
    filename: str
    currency: str
    exchange_rate: Decimal | None  # None when shown in the statement's own currency


def render_statement(
    runtime: Runtime,
    principal: Principal,
    ident: str,
    fmt: str,
    currency: str | None = None,
) -> Rendered:
    """Render statement ``ident`` (id or number) as ``fmt``, optionally in ``currency``
    at the period's rate from the tenant's exchange-rates file.

    :raises NotFound: no such statement for this key, or no renderer for ``fmt``.
    :raises MissingRate: the rates file has no rate for the period and currencies.
    """
    config = runtime.tenant(principal.tenant)
    renderers = runtime.plugins.renderers
    if fmt not in renderers:
        raise NotFound(f"no renderer for format {fmt!r} is installed")
    with runtime.db.transaction() as session:
        statement = get_visible(session, principal, ident)
        document = statement_document(config, statement)
        basename = statement_basename(statement)
    if principal.scope == "customer" and fmt in COSTS_HIDDEN_FROM_CUSTOMERS:
        document = without_costs(document)
    rate = None
    if currency and currency != document.currency:
        rate = tenant_rates(config).rate(document.period.key, document.currency, currency)
        document = convert_document(document, currency, rate, config.invoice_options.rounding)
        basename = f"{basename}-{currency}"
    try:
        content = renderer_for(runtime, config)(document, fmt)
    except PluginError as exc:  # e.g. UBL: a Draft has no invoice number yet
        raise Conflict(f"cannot render statement {ident!r} as {fmt}: {exc}") from None
    media_type = MEDIA_TYPES.get(fmt, "application/octet-stream")
    return Rendered(
        content, media_type, f"{basename}{renderers.suffix(fmt)}", document.currency, rate
    )
