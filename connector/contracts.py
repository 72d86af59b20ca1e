"""The public surface plugins implement and receive.

Plugins import from here, from :mod:`connector.hookspecs` and the ``hookimpl`` marker,
and from nothing else in the core. Everything a plugin needs from the core is handed
to it as one of these values.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, Protocol, overload, runtime_checkable

import pluggy

from connector.domain.money import quantum

PROJECT_NAME = "billing_connector"
ENTRY_POINT_GROUP = "billing_connector"

#: The plugin API this core offers, ``MAJOR.MINOR``. A plugin declares the one it was
#: built for as ``PLUGIN_API = "1.0"`` in its entry-point module; the core loads it when
#: the majors are equal and the plugin's minor is not newer than this one, and refuses it
#: otherwise (docs/plugins.md, "The plugin API version"). The minor grows when something
#: is added (a field, an optional Protocol), the major when something changes or goes.
PLUGIN_API_VERSION = "1.0"

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
_log = logging.getLogger(__name__)


class PluginError(Exception):
    """A plugin could not do what was asked; the message is shown to the operator."""


class SourceDataError(PluginError):
    """Provider data is malformed: the message names the file, line and field."""


def minor_unit(currency: str) -> Decimal:
    """The currency's ISO 4217 minor unit: ``0.01`` for USD, ``1`` for JPY, ``0.001`` for BHD.

    Take it from the currency, never from how an amount happens to be written:
    PostgreSQL hands every stored amount back at NUMERIC(38, 12)'s scale
    (``12.300000000000``).
    """
    return quantum(currency)


# ---------------------------------------------------------------------------
# Billing data
# ---------------------------------------------------------------------------


class ChargeCategory(StrEnum):
    """FOCUS ChargeCategory."""

    USAGE = "Usage"
    PURCHASE = "Purchase"
    TAX = "Tax"
    CREDIT = "Credit"
    ADJUSTMENT = "Adjustment"


@dataclass(frozen=True, slots=True)
class BillingPeriod:
    """A half-open date range ``[start, end)`` that one statement covers."""

    start: dt.date
    end: dt.date

    @property
    def key(self) -> str:
        """``YYYY-MM`` of the start: how operators name a period on the command line."""
        return f"{self.start:%Y-%m}"

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day < self.end


@dataclass(frozen=True, slots=True)
class CanonicalCharge:
    """One aggregated charge in FOCUS semantics, at full precision.

    Providers aggregate their native rows to this grain (summing costs and quantities
    exactly); the detailed CSV still lists every service and usage type from it.
    """

    billing_account_id: str
    sub_account_id: str
    charge_category: ChargeCategory
    service_name: str
    service_category: str
    sku: str
    billed_cost: Decimal
    list_cost: Decimal
    billing_currency: str
    charge_period_start: dt.date
    charge_period_end: dt.date
    quantity: Decimal = Decimal(0)
    charge_class: str | None = None
    publisher: str | None = None
    is_marketplace: bool = False
    invoice_id: str | None = None
    line_item_type: str = ""
    #: FOCUS ChargeFrequency: "One-Time", "Recurring" or "Usage-Based" (None: unknown).
    #: One-time purchases (upfront reservation and savings-plan fees) may be billed
    #: before the period closes (the tenant's "AWS RI purchase: immediately").
    charge_frequency: str | None = None


#: The longest text the core stores in each text field of a :class:`CanonicalCharge`
#: (its storage columns are this long on every database; PostgreSQL refuses longer text,
#: SQLite would keep it). Providers check their values with :func:`charge_text_problem`.
CHARGE_TEXT_LIMITS: Mapping[str, int] = {
    "billing_account_id": 128,
    "sub_account_id": 128,
    "charge_category": 32,
    "charge_class": 32,
    "service_name": 200,
    "service_category": 200,
    "sku": 300,
    "publisher": 200,
    "billing_currency": 3,
    "invoice_id": 128,
    "line_item_type": 64,
    "charge_frequency": 16,
}
#: Descriptive names (a product's, a seller's) that are cut to their limit, with a
#: warning, rather than refused: they only label a statement line, and a reseller cannot
#: make the provider shorten them, so refusing would block billing for a label. Every
#: other field is an identifier (account, SKU / usage type, invoice, service that
#: pricebook rules match on): cut, two different ones could merge into one charge and be
#: priced by the wrong rule, so an over-long one is refused.
TRUNCATED_CHARGE_TEXT: frozenset[str] = frozenset({"service_category", "publisher"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def charge_text_problem(field_name: str, value: str | None) -> str | None:
    """Why ``value`` cannot be stored as the charge's ``field_name``, or ``None``.

    Refused: a NUL or other control character (tab, line feed and carriage return
    are allowed: a quoted CSV value may hold them), on every field, and a value longer
    than :data:`CHARGE_TEXT_LIMITS` on fields not in :data:`TRUNCATED_CHARGE_TEXT`.
    The reason says what would be valid; the caller adds file, line and column.
    """
    if not value:
        return None
    control = _CONTROL.search(value)
    if control is not None:
        return (
            f"holds the control character U+{ord(control.group()):04X} at position "
            f"{control.start() + 1}; it must be printable text"
        )
    limit = CHARGE_TEXT_LIMITS.get(field_name)
    if limit is not None and len(value) > limit and field_name not in TRUNCATED_CHARGE_TEXT:
        return f"is {len(value)} characters long; it must be at most {limit}"
    return None


def fit_charge_text(field_name: str, value: str) -> str:
    """``value`` cut to the field's limit (for :data:`TRUNCATED_CHARGE_TEXT` fields),
    ending in an ellipsis so a reader sees it was cut."""
    limit = CHARGE_TEXT_LIMITS[field_name]
    return value if len(value) <= limit else value[: limit - 1] + "\u2026"


def checked_text(field_name: str, value: str, where: Callable[[], str]) -> str:
    """``value`` as it can be stored in the charge's ``field_name``.

    :param where: names the value's origin, e.g. ``"cur.csv: line 7, column
        lineItem/UsageType"``; called only when there is something to report.
    Raises :class:`SourceDataError` for a refused value (:func:`charge_text_problem`);
    cuts an over-long descriptive name, logging a warning that says where it came from.
    """
    problem = charge_text_problem(field_name, value)
    if problem is not None:
        raise SourceDataError(f"{where()} {problem}")
    fitted = value
    if field_name in TRUNCATED_CHARGE_TEXT:
        fitted = fit_charge_text(field_name, value)
        if fitted != value:
            _log.warning(
                "%s is %d characters long; statements show its first %d (a %s is stored "
                "up to %d characters)",
                where(), len(value), CHARGE_TEXT_LIMITS[field_name] - 1, field_name,
                CHARGE_TEXT_LIMITS[field_name],
            )  # fmt: skip
    return fitted


def checked_charges(
    charges: Iterable[CanonicalCharge], where: Callable[[str, str], str]
) -> list[CanonicalCharge]:
    """``charges`` with every text field checked by :func:`checked_text` (each distinct
    value once); ``where(field_name, value)`` names where a value came from."""
    fields = tuple(CHARGE_TEXT_LIMITS)
    seen: dict[tuple[str, str], str] = {}
    result = []
    for charge in charges:
        changes = {}
        for name in fields:
            value = getattr(charge, name)
            if not value:
                continue
            key = (name, value)
            fitted = seen.get(key)
            if fitted is None:
                fitted = seen[key] = checked_text(name, value, lambda n=name, v=value: where(n, v))
            if fitted is not value and fitted != value:
                changes[name] = fitted
        result.append(replace(charge, **changes) if changes else charge)
    return result


#: The fields of a :class:`CanonicalCharge` that a :class:`ChargeTable` context fixes, in
#: the order of its context tuples; the others vary per row.
CHARGE_CONTEXT_FIELDS = (
    "billing_account_id", "charge_category", "charge_class", "service_name",
    "service_category", "sku", "billing_currency", "publisher", "is_marketplace",
    "invoice_id", "line_item_type", "charge_frequency",
)  # fmt: skip


@dataclass(frozen=True, slots=True, eq=False)
class ChargeTable(Sequence[CanonicalCharge]):
    """A period's charges dictionary-encoded: what many of them share is held once.

    A provider that aggregates hundreds of thousands of charges may hand this instead of
    a list as :attr:`ChargeBatch.charges`. Most fields repeat across charges (a CUR has a
    few thousand combinations of payer, product, usage type, seller and invoice for
    hundreds of thousands of charges), so the core stores a table without making a
    CanonicalCharge and three Decimals per row, which cost more than the storing itself.
    Read as a sequence it gives the CanonicalCharges a list would hold, made on demand
    (a slice is a table again).

    :param contexts: one tuple per context: the values of :data:`CHARGE_CONTEXT_FIELDS`.
    :param accounts: the ``sub_account_id`` values.
    :param dates: the charge period dates, keyed by the numbers the rows hold.
    :param rows: one per charge, ``(context, account, billed_cost, list_cost, quantity,
        start, end)``: indexes into ``contexts`` and ``accounts``, keys of ``dates``, and
        each amount as its exact decimal text (``str(Decimal)``, or fixed point such as
        ``"0.000000000000"``): never a float's. Storing reads ``rows`` once, in order, a
        chunk at a time: a provider may hand a sequence that fetches its rows as they are
        iterated, so a period's charges stream into the database.
    """

    contexts: Sequence[tuple]
    accounts: Sequence[str]
    dates: Mapping[int, dt.date]
    rows: Sequence[tuple[int, int, str, str, str, int, int]]

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> CanonicalCharge: ...
    @overload
    def __getitem__(self, index: slice) -> ChargeTable: ...
    def __getitem__(self, index: int | slice) -> CanonicalCharge | ChargeTable:
        if isinstance(index, slice):
            return replace(self, rows=self.rows[index])
        context, account, billed, listed, quantity, start, end = self.rows[index]
        return CanonicalCharge(
            sub_account_id=self.accounts[account],
            billed_cost=Decimal(billed),
            list_cost=Decimal(listed),
            quantity=Decimal(quantity),
            charge_period_start=self.dates[start],
            charge_period_end=self.dates[end],
            **dict(zip(CHARGE_CONTEXT_FIELDS, self.contexts[context], strict=True)),
        )


@dataclass(frozen=True, slots=True)
class ChargeBatch:
    """What a provider read from one source for one billing period.

    :param source: a human name for where the data came from (file path, API call).
    :param source_hash: changes whenever the source content changes; the same hash
        twice means nothing new to ingest.
    :param final: the provider says this period's data will not change any more.
    """

    period: BillingPeriod
    source: str
    source_hash: str
    charges: Sequence[CanonicalCharge]
    final: bool = False


@runtime_checkable
class Provider(Protocol):
    """A provider plugin: reads one provider's billing data for one tenant.

    ``name`` is what a tenant file names (``provider: aws``). ``settings_model``, when
    set, is a pydantic model that validates the tenant's provider settings, so that
    ``check-config`` reports its errors with the rest.

    A class may also set ``invoice_option_settings``, a mapping of setting name to the
    name of a tenant invoice option (``{"billing_day": "azure_billing_day"}``): the core
    passes the option's value as that setting unless the provider's settings give it.
    ``fetch`` may also take a keyword ``progress`` (a :class:`connector.progress.Progress`),
    which the core then passes to report rows or bytes read.

    A provider whose bill carries third-party products (``is_marketplace`` charges) may
    set ``marketplace_name``, the marketplace they are bought on ("AWS Marketplace",
    "Azure Marketplace"), which heads their statement lines (default "Marketplace"),
    and ``marketplace_pricing``, how they are priced unless the tenant's
    ``providers.<key>.marketplace_pricing`` says: ``"at_cost"`` (passed through as
    marketplace fees) or ``"pricebook"`` (the default: priced like any product).

    A class may also set ``display_name``, the provider as people name it ("Amazon Web
    Services"), which the review page and other screens show instead of ``name``
    (optional: a provider without one is shown by its ``name``).
    """

    name: ClassVar[str]
    settings_model: ClassVar[type | None]

    def __init__(self, settings: Mapping[str, Any], base_dir: Path) -> None: ...

    def fetch(self, period: BillingPeriod | None = None) -> Iterator[ChargeBatch]:
        """Yield one batch per billing period found (only ``period`` when given)."""
        ...


# ---------------------------------------------------------------------------
# Statements as handed to renderers and sinks
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Party:
    """A reseller or customer as printed on a statement."""

    name: str
    email: str | None = None
    phone: str | None = None
    address: Sequence[str] = ()
    tax_id: str | None = None
    logo_path: Path | None = None


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One line of a statement, already rounded to the currency's minor unit.

    ``kind`` is one of ``service``, ``marketplace``, ``discount``, ``support``,
    ``credit``, ``tax``, ``rounding``.
    """

    position: int
    kind: str
    description: str
    amount: Decimal
    cost: Decimal = Decimal(0)
    service_category: str | None = None
    account_id: str | None = None
    quantity: Decimal = Decimal(1)


class DetailRow(NamedTuple):
    """Account × service × usage type at full precision, for the detailed CSV.

    A named tuple (immutable, fields by name like the dataclasses here): a large build
    makes millions, and a tuple is made in a fifth of the time.
    """

    account_id: str
    service_category: str
    service_name: str
    sku: str
    line_item_type: str
    is_marketplace: bool
    quantity: Decimal
    cost: Decimal
    price: Decimal
    price_rounded: Decimal


@dataclass(frozen=True, slots=True)
class CreditedInvoice:
    """The invoice a credit note credits, as every document of the credit note names it:
    UBL's BillingReference (Peppol BT-25 and BT-26), the ERP's reference or allocation,
    the PDF's and HTML's "Credit note for ..."."""

    number: str
    #: When the invoice was issued; None for a credit note stored before it was recorded
    #: whose invoice could not be read.
    issue_date: dt.date | None
    statement_id: str | None = None


@dataclass(frozen=True, slots=True)
class StatementDocument:
    """Everything needed to render a statement or push it to an ERP."""

    statement_id: str
    revision: int
    tenant: str
    provider: str
    period: BillingPeriod
    status: str
    number: str | None
    issue_date: dt.date
    due_date: dt.date
    currency: str
    reseller: Party
    customer: Party
    customer_id: str
    lines: Sequence[StatementLine]
    details: Sequence[DetailRow]
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    notes: str | None = None
    pricebook_version: str | None = None
    erp_mappings: Mapping[str, str] = field(default_factory=dict)
    #: Header fields to print ("custom fields in invoice header" on), else empty.
    custom_fields: Mapping[str, str] = field(default_factory=dict)
    #: The customer's payment method ("show payment method" on), else None.
    payment_method: str | None = None
    #: The customer's tax as applied: name (e.g. "US Sales Tax") and rate (0.0825);
    #: both None when no tax was charged (exempt, "include tax" off, no tax table).
    tax_name: str | None = None
    tax_rate: Decimal | None = None
    #: The provider's billing currency and the rate that converted it into
    #: ``currency`` (1 unit of ``billing_currency`` = ``exchange_rate`` units of
    #: ``currency``); the rate is 1 when no conversion took place.
    billing_currency: str | None = None
    exchange_rate: Decimal = Decimal(1)
    #: Whether credits reduced the taxable base ("include credits for tax calculations"
    #: when the statement was built); None when not known.
    credits_before_tax: bool | None = None
    #: For a credit note (a voided statement's correction): the invoice it credits.
    #: None for an invoice. A credit note's amounts are negative, the invoice's negated.
    credited_invoice: CreditedInvoice | None = None
    #: The reseller's country (ISO 3166, e.g. "GB"), whose conventions the document
    #: follows; None when not known.
    country: str | None = None
    #: The locale amounts, dates and currency symbols are formatted for (CLDR, e.g.
    #: "en_GB", "de_DE"); None prints amounts as ``1,234.50`` and dates as ISO 8601.
    locale: str | None = None
    #: Paper size of printed documents: "A4" or "LETTER" (US and Canada by default).
    page_size: str = "LETTER"
    #: The provider as customers know it ("Amazon Web Services"); ``provider`` is the
    #: plugin's key (``aws``). None falls back to ``provider``.
    provider_name: str | None = None
    #: The customer is exempt from tax: printed statements say so.
    tax_exempt: bool = False
    #: Whether printed statements list zero-amount lines and rounding adjustments
    #: (invoice options ``show_zero_lines``, ``show_rounding_lines``). Sinks ignore
    #: both: an ERP receives every line.
    show_zero_lines: bool = True
    show_rounding_lines: bool = True

    @property
    def idempotency_key(self) -> str:
        """Stable per statement revision, so a retried push never creates twice."""
        return f"{self.tenant}:{self.statement_id}:r{self.revision}"


@runtime_checkable
class Renderer(Protocol):
    """Turns a statement into one or more file formats (``formats``: name -> suffix).

    Made with no arguments, or as ``cls(settings, base_dir)`` when the tenant file has
    settings for it under ``renderers.<name>`` (``base_dir``: the tenant file's folder).
    """

    name: ClassVar[str]
    formats: ClassVar[Mapping[str, str]]

    def render(self, document: StatementDocument, fmt: str) -> bytes: ...


@dataclass(frozen=True, slots=True)
class PushResult:
    """What an ERP sink says about one statement it was given."""

    statement_id: str
    remote_id: str | None
    ok: bool
    message: str = ""
    #: The ERP refused the statement as invalid (a validation error): retrying cannot
    #: help, so the outbox marks it dead at once, keeping ``message`` for a person.
    permanent: bool = False


class TokenStore(Protocol):
    """OAuth2 tokens of one tenant's ERP connections, kept encrypted at rest by the core.

    ``key`` names one organisation (e.g. ``xero:<tenant id>``, ``quickbooks:<realm id>``).
    Refresh tokens rotate and a refresh token used twice gives ``invalid_grant``, so a
    sink refreshes under ``lock(key)``: load, refresh if needed, save, all inside it.
    """

    def load(self, key: str) -> dict[str, Any] | None:
        """The stored token for ``key`` (as saved), or None when never connected."""
        ...

    def save(self, key: str, token: Mapping[str, Any]) -> None:
        """Replace the token for ``key`` atomically."""
        ...

    def lock(self, key: str) -> AbstractContextManager[None]:
        """Hold the organisation's refresh lock (across processes) for the block."""
        ...


@dataclass(frozen=True, slots=True)
class SinkContext:
    """What the core hands a sink: where it may write, and its tenant.

    :param tokens: the tenant's ERP token store (None for sinks that need none).
    :param render: ``render(document, fmt)`` returns the statement rendered in ``fmt``
        (e.g. ``"pdf"``) by the installed renderer plugins, for attaching to invoices.
    """

    tenant: str
    output_dir: Path
    run_id: str
    tokens: TokenStore | None = None
    render: Callable[[StatementDocument, str], bytes] | None = None


@runtime_checkable
class Sink(Protocol):
    """An ERP sink: delivers approved statements to an accounting system."""

    name: ClassVar[str]
    settings_model: ClassVar[type | None]

    def __init__(self, settings: Mapping[str, Any], context: SinkContext) -> None: ...

    def push(self, documents: Sequence[StatementDocument]) -> list[PushResult]:
        """Deliver ``documents``; must be safe to call again with the same ones."""
        ...


@dataclass(frozen=True, slots=True)
class PaymentStatus:
    """What the ERP says about an invoice we delivered: paid in full or not (yet)."""

    statement_id: str
    paid: bool
    paid_on: dt.date | None = None


@runtime_checkable
class PaymentSource(Protocol):
    """A sink that can also say which delivered invoices are paid (optional).

    The core calls it for Open and Past Due statements; a paid one becomes Closed.
    """

    def payment_status(self, documents: Sequence[StatementDocument]) -> list[PaymentStatus]:
        """One status per document (``remote_id`` lookups are the sink's own business)."""
        ...


@runtime_checkable
class CheckedSink(Protocol):
    """A sink that can check, before the first push, that the ERP has every mapping the
    statements need (contacts, items, accounts, tax codes, currencies) (optional)."""

    def preflight(self, documents: Sequence[StatementDocument]) -> list[str]:
        """Every gap found, one message each naming the mapping and how to fix it;
        empty when the push can go ahead. Must not create anything in the ERP."""
        ...


@runtime_checkable
class ConnectableSink(Protocol):
    """A sink whose ERP needs an OAuth2 connection made once by an operator.

    ``connector erp connect`` prints ``authorization_url(settings, state)``, takes the URL
    the browser was redirected to, and saves ``exchange_code(...)``'s token under
    ``token_key(settings)`` in the tenant's token store.
    """

    @classmethod
    def token_key(cls, settings: Mapping[str, Any]) -> str: ...

    @classmethod
    def authorization_url(cls, settings: Mapping[str, Any], state: str) -> str: ...

    @classmethod
    def exchange_code(
        cls, settings: Mapping[str, Any], redirect_url: str, state: str
    ) -> dict[str, Any]: ...


@runtime_checkable
class ClassRegistry(Protocol):
    """What registration hooks receive: ``registry.add(cls)`` registers a plugin class."""

    def add(self, cls: type) -> None: ...


# The registries as the registration hooks hand them to plugins: all a plugin may do
# with one is add its classes. The core's own (connector.registries) also look classes
# up by name; plugins never do, so these Protocols are the whole promise.


@runtime_checkable
class ProviderRegistry(Protocol):
    """What ``connector_register_providers`` receives: ``add(cls)`` registers a
    :class:`Provider` class under ``cls.name``."""

    def add(self, cls: type[Provider]) -> None: ...


@runtime_checkable
class SinkRegistry(Protocol):
    """What ``connector_register_sinks`` receives: ``add(cls)`` registers a :class:`Sink`
    class under ``cls.name``."""

    def add(self, cls: type[Sink]) -> None: ...


@runtime_checkable
class RendererRegistry(Protocol):
    """What ``connector_register_renderers`` receives: ``add(cls)`` registers a
    :class:`Renderer` class under every format of ``cls.formats``."""

    def add(self, cls: type[Renderer]) -> None: ...


# ---------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """A notification: something happened. Never control flow."""

    name: ClassVar[str] = "event"
    tenant: str

    def properties(self) -> dict[str, Any]:
        return {"tenant": self.tenant}


@dataclass(frozen=True, slots=True)
class ChargesIngested(Event):
    name: ClassVar[str] = "charges-ingested"
    provider: str = ""
    period: str = ""
    rows: int = 0

    def properties(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "provider": self.provider,
            "period": self.period,
            "rows": self.rows,
        }


@dataclass(frozen=True, slots=True)
class StatementEvent(Event):
    statement_id: str = ""
    number: str | None = None

    def properties(self) -> dict[str, Any]:
        return {"tenant": self.tenant, "statement_id": self.statement_id, "number": self.number}


@dataclass(frozen=True, slots=True)
class StatementGenerated(StatementEvent):
    name: ClassVar[str] = "statement-generated"


@dataclass(frozen=True, slots=True)
class StatementApproved(StatementEvent):
    name: ClassVar[str] = "statement-approved"


@dataclass(frozen=True, slots=True)
class StatementPushed(StatementEvent):
    name: ClassVar[str] = "statement-pushed"


def sum_decimals(values: Iterable[Decimal]) -> Decimal:
    """Exact sum that stays Decimal for an empty input."""
    return sum(values, Decimal(0))


# A spreadsheet program runs a cell starting with one of these as a formula (CSV
# injection). Text in our CSVs comes partly from third parties (marketplace product
# names are chosen by their sellers), so text cells get a leading quote (OWASP's advice),
# which spreadsheets and the ERPs' importers read as "this is text".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """``value`` as one CSV cell a spreadsheet shows as written, never runs.

    Numbers (``Decimal``, ``int``, ``float``) stay numbers: fixed-point, a negative
    amount keeps its minus and a zero loses its sign (never ``-0.00``). Text starting
    with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``.
    ``None`` is an empty cell and booleans are ``true``/``false``. Pass amounts as
    numbers, not as text: ``"-12.50"`` is text and would be quoted.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(abs(value) if value.is_zero() else value, "f")
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_bytes(header: Sequence[str], rows: Iterable[Iterable[object]]) -> bytes:
    """UTF-8 CSV with ``\\n`` line endings and minimal quoting, every cell through
    :func:`csv_cell`: the same rows always give the same bytes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([csv_cell(name) for name in header])
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8")
