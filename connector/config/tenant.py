"""The tenant file: one reseller's profile, options, providers, pricebooks and customers.

Every model forbids unknown keys, so a misspelt option is an error rather than a
silently ignored default. Money and percentages are ``Decimal``, written as whole
numbers (``15``) or quoted (``"0.0825"``): an unquoted ``0.2`` is a YAML float, a binary
fraction that only looks exact, so it is refused with the quoted form to write instead.

Text that is stored or printed (names, ids, addresses, notes) holds no control
characters (only ``notes`` may span lines) and fits the database column it is stored
in, so a file ``check-config`` passes never fails later at a tenant's sync.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import os
import re
from decimal import Decimal
from pathlib import Path
from string import Formatter
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import holidays
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from connector.config.checks import cross_reference_problems
from connector.config.yamlfile import dotted
from connector.contracts import ChargeCategory
from connector.domain.iso4217 import NOT_MONEY, is_currency
from connector.domain.numbering import MAX_NUMBER_LENGTH as MAX_INVOICE_NUMBER_LENGTH
from connector.webhooks import EVENT_TYPES

INLINE_SECRET_MESSAGE = (
    "secrets must be references: {secret_env: NAME} or {secret_file: PATH}, never inline"
)

#: Error type the model uses for cross-reference problems; the loader reports these
#: itself, with the line of each offending key, so it skips the model's copy.
CROSS_REFERENCE_ERROR = "tenant_cross_reference"

_TENANT_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")

# The lengths of the columns in connector.storage.models that tenant text is stored in
# (tests/config/test_tenant_file_text.py keeps them equal): too long, PostgreSQL refuses
# the row at the tenant's sync, and every command for the tenant fails.
TENANT_NAME_LENGTH = 200  # tenants.name <- profile.name
CUSTOMER_ID_LENGTH = 64  # customers.id, statements.customer_id, credit_entries.customer_id
CUSTOMER_NAME_LENGTH = 200  # customers.name
PROVIDER_KEY_LENGTH = 64  # provider_accounts.provider, statements.provider, period_closes
ACCOUNT_ID_LENGTH = 128  # provider_accounts.account_id
TAX_NAME_LENGTH = 100  # statements.tax_name
PRICEBOOK_LABEL_LENGTH = 100  # statements.pricebook_version: "<pricebook id>@YYYY-MM-DD"
ID_LENGTH = 64  # pricebook and support plan ids, like customer ids

# C0 and C1 controls (NUL among them: PostgreSQL text cannot hold it) and the Unicode
# line and paragraph separators; text that may span lines keeps tab and newline.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_IN_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def _plain_text(max_length: int | None = None, *, lines: bool = False) -> AfterValidator:
    """Refuse control characters (but newline and tab when ``lines``) and, when given,
    text longer than ``max_length``."""
    pattern = _CONTROL_IN_LINES if lines else _CONTROL
    allowed = "only line breaks and tabs are allowed" if lines else "it must be one plain line"

    def check(value: str) -> str:
        found = pattern.search(value)
        if found is not None:
            raise PydanticCustomError(
                "text_control_character",
                "contains the control character U+{code} (character {position}); {allowed}: "
                "remove it (in double quotes, a \\ escape such as \\0 or \\t writes one)",
                {"code": f"{ord(found.group()):04X}", "position": found.start() + 1,
                 "allowed": allowed},
            )  # fmt: skip
        if max_length is not None and len(value) > max_length:
            raise PydanticCustomError(
                "text_too_long",
                "is {length} characters long; at most {max_length} fit where it is stored",
                {"length": len(value), "max_length": max_length},
            )
        return value

    return AfterValidator(check)


def _decimal_input(value: Any, info: ValidationInfo) -> Any:
    # bool is an int subclass: `yes` in YAML must not become a percentage of 1.
    if isinstance(value, bool):
        raise PydanticCustomError("decimal_type", "expected a number, not true/false")
    # A YAML float is a binary fraction: 0.1 is 0.1000000000000000055511151231257827...
    # Reading it through str() would hide that the file asked for something inexact,
    # and 1e-7 or 12345678901234567.5 already differ; exact money is written as text.
    if isinstance(value, float):
        if not math.isfinite(value):
            # Quoting it would not help: no amount or percentage is infinite or NaN.
            raise PydanticCustomError(
                "finite_number", 'expected a finite number like 15 or "0.0825"'
            )
        key = info.field_name or "amount"
        raise PydanticCustomError(
            "decimal_from_float",
            "an unquoted {value} is a floating-point number, not an exact amount: write it "
            'in quotes, e.g. {key}: "{value}" (whole numbers such as 15 need no quotes)',
            {"value": repr(value), "key": key},
        )
    return value


def _id_input(value: Any) -> Any:
    # Unquoted YAML ids such as `id: 1001` arrive as int; ids are text everywhere else.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _account_id_input(value: Any) -> Any:
    # AWS account ids are 12 digits and may start with 0; YAML drops leading zeros from
    # an unquoted number (or reads it as octal), so only a quoted id is trustworthy.
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise PydanticCustomError(
            "account_id_type",
            'account ids must be quoted, e.g. "012345678901": YAML reads an unquoted '
            "number as a number and drops its leading zeros",
        )
    return value


# Customer ids and provider keys become parts of file names (exported statements, ERP
# import files): a safe character set keeps every one of them a single, plain name.
_FILE_NAME_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
FILE_NAME_SAFE_TEXT = (
    "letters, digits, '.', '_' and '-', starting with a letter or digit, without '..' "
    "(no '/', '\\', spaces or other characters: it becomes part of file names)"
)


def _file_name_safe(what: str) -> AfterValidator:
    """Refuse text that could not be used as it is in a file name (``..``, ``/``, ``\\``)."""

    def check(value: str) -> str:
        if not _FILE_NAME_SAFE.match(value) or ".." in value:
            raise PydanticCustomError(
                "file_name_unsafe",
                "{what} '{value}' is not allowed: use only {allowed}",
                {"what": what, "value": value, "allowed": FILE_NAME_SAFE_TEXT},
            )
        return value

    return AfterValidator(check)


DecimalValue = Annotated[Decimal, BeforeValidator(_decimal_input)]
IdText = Annotated[str, BeforeValidator(_id_input), _plain_text(ID_LENGTH)]
CustomerId = Annotated[
    str,
    BeforeValidator(_id_input),
    _plain_text(CUSTOMER_ID_LENGTH),
    _file_name_safe("customer id"),
    Field(description=f"The customer's id: {FILE_NAME_SAFE_TEXT}."),
]
PricebookId = Annotated[
    str, BeforeValidator(_id_input), _plain_text(PRICEBOOK_LABEL_LENGTH - len("@2026-01-01"))
]
AccountId = Annotated[str, BeforeValidator(_account_id_input), _plain_text(ACCOUNT_ID_LENGTH)]
ProviderKey = Annotated[
    str,
    _plain_text(PROVIDER_KEY_LENGTH),
    _file_name_safe("provider key"),
    Field(description=f"A provider key: {FILE_NAME_SAFE_TEXT}."),
]
#: Printed text on one line (addresses are lists of them).
Line = Annotated[str, _plain_text()]


# What may follow "{number:": fill and alignment, sign, zero padding, width, thousands
# separator, and the integer type d. Precision and float types (e, f, g, %) would make
# several numbers print alike, and every approval after the first would fail.
_INTEGER_SPEC = re.compile(r"^(?:.?[<>=^])?[+\- ]?0?\d*[,_]?d?$")
# Invoice numbers whose formats are checked to differ: the next thousand from the
# file's next number, the first thousand, and both sides of every power of ten (where
# padding and widths change).
_SAMPLE_SPAN = 1000


def _number_sample(start: int) -> list[int]:
    powers = [10**k + d for k in range(1, 16) for d in (-1, 0, 1)]
    return sorted({*range(start, start + _SAMPLE_SPAN), *range(1, _SAMPLE_SPAN), *powers})


def invoice_number_format(fmt: str, next_number: int = 1) -> str:
    """``fmt`` if it numbers invoices one-to-one within the stored length, else why not.

    It must use ``{number}`` with an integer format, give different text for different
    numbers (checked on a sample), and keep the next thousand numbers from
    ``next_number`` within :data:`MAX_INVOICE_NUMBER_LENGTH` characters.

    :raises ValueError: saying what is wrong and what would be valid.
    """
    example = 'e.g. "INV-{number}" or "INV-{number:05d}"'
    try:
        specs = [(f, spec, conv) for _, f, spec, conv in Formatter().parse(fmt) if f is not None]
    except ValueError as exc:
        raise ValueError(f"is not a valid format ({exc}); {example}") from None
    if not specs:
        raise ValueError(f"must contain {{number}}, {example}")
    for name, spec, conversion in specs:
        if name != "number":
            raise ValueError(f"only the {{number}} placeholder is available, not {{{name}}}")
        if conversion is not None or not _INTEGER_SPEC.match(spec or ""):
            shown = f"!{conversion}" if conversion else ""
            shown += f":{spec}" if spec else ""
            raise ValueError(
                f"{{number{shown}}} is not a decimal integer format such as {{number}}, "
                "{number:d} or {number:05d}; other formats can print different invoice "
                "numbers alike"
            )
    seen: dict[str, int] = {}
    for number in _number_sample(next_number):
        try:
            text = fmt.format(number=number)
        except (ValueError, TypeError, OverflowError) as exc:
            raise ValueError(f"cannot format invoice number {number} with it: {exc}") from None
        if text in seen:
            raise ValueError(
                f"gives {text!r} for both {seen[text]} and {number}: invoice numbers must "
                f"differ; {example}"
            )
        seen[text] = number
    for number in (next_number, next_number + _SAMPLE_SPAN - 1):
        text = fmt.format(number=number)
        if len(text) > MAX_INVOICE_NUMBER_LENGTH:
            raise ValueError(
                f"gives {text!r} ({len(text)} characters) for invoice number {number}; "
                f"QuickBooks accepts invoice numbers (DocNumber) of at most "
                f"{MAX_INVOICE_NUMBER_LENGTH} characters, and so does the statement's number"
            )
    return fmt


def holiday_country(code: str) -> str:
    """``code`` if the holidays package has a calendar for it."""
    if code not in holidays.list_supported_countries():
        raise ValueError(
            f"{code!r} is not a country with a holiday calendar: use an ISO 3166 code such "
            "as US, GB, DE"
        )
    return code


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SecretRef(_Model):
    """A secret held outside the tenant file: an environment variable or a file."""

    env: str | None = None
    file: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _refuse_inline(cls, value: Any) -> Any:
        if isinstance(value, str):
            raise PydanticCustomError("inline_secret", INLINE_SECRET_MESSAGE)
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of secret_env: NAME or secret_file: PATH")
        return self

    def resolve(self, base_dir: Path) -> str:
        """The secret's value, stripped; a relative file is read from ``base_dir``.

        :raises LookupError: the variable is unset or the file cannot be read; the
            message names the variable or the file, never a value.
        """
        if self.env is not None:
            value = os.environ.get(self.env)
            if value is None:
                raise LookupError(f"secret environment variable {self.env} is not set")
            return value.strip()
        assert self.file is not None  # guaranteed by _exactly_one
        path = Path(self.file).expanduser()
        if not path.is_absolute():
            path = base_dir / path
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise LookupError(f"secret file {path} cannot be read: {exc.strerror}") from None


class Profile(_Model):
    """The reseller as printed on every statement."""

    name: Annotated[str, _plain_text(TENANT_NAME_LENGTH)]
    email: Line | None = None
    phone: Line | None = None
    address: list[Line] = Field([], description="One printed line per entry.")
    tax_id: Line | None = None
    logo: str | None = Field(None, description="Image path, relative to the tenant file.")
    country: str = Field(
        "US",
        description="ISO 3166 code of your country: its public holidays are skipped when "
        "counting the business days to a period's close.",
    )

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        return holiday_country(value)


class InvoiceOptions(_Model):
    """The seeds' Invoice Options: due dates, numbering, notes and layout toggles."""

    term_type: Literal["net", "day_of_next_month", "end_of_month", "on_receipt"] = "net"
    term_value: int = Field(30, ge=0)
    azure_billing_day: int = Field(31, ge=1, le=31)
    next_invoice_number: int = Field(1, ge=1)
    invoice_number_format: str = "{number}"
    aws_ri_purchase: Literal["end_of_month", "immediately"] = "end_of_month"
    notes: Annotated[str, _plain_text(lines=True)] | None = Field(
        None, description="Printed on statements; may span several lines (tabs allowed)."
    )
    include_credits_for_tax: bool = False
    custom_fields_in_header: bool = False
    custom_fields: dict[Line, Line] = {}
    group_by_cloud_account: bool = False
    show_payment_method: bool = Field(
        False, description="Print a payment method on statements (the customer's own first)."
    )
    payment_method: Line | None = Field(
        None, description="Printed for customers without their own payment_method."
    )
    add_rounding_adjustments: bool = False
    rounding: Literal["half_up", "half_even"] = "half_up"
    tax_rounding: Literal["statement", "line"] = Field(
        "statement", description="Round tax once on the statement, or on each taxed line."
    )
    page_size: Literal["auto", "A4", "LETTER"] = Field(
        "auto",
        description="Paper of printed statements; auto: Letter in the US and Canada, "
        "else A4 (by profile.country).",
    )
    show_zero_lines: bool = Field(
        True, description="List zero-amount lines (free trials) on printed statements."
    )
    show_rounding_lines: bool = Field(
        True, description="List rounding adjustments on printed statements."
    )
    locale: str | None = Field(
        None,
        pattern=r"^[a-z]{2,3}(_[A-Z][a-z]{3})?(_[A-Z]{2}|_[0-9]{3})?$",
        description="CLDR locale amounts and dates are printed in, such as en_GB or de_DE; "
        "default: the usual one of profile.country.",
    )

    @field_validator("invoice_number_format")
    @classmethod
    def _check_format(cls, fmt: str, info: ValidationInfo) -> str:
        return invoice_number_format(fmt, info.data.get("next_invoice_number", 1))


class GenerationOptions(_Model):
    """Defaults of the seeds' "Generate Invoices" dialog; a run may override them."""

    apply_credits: bool = True
    include_tax: bool = True
    include_marketplace_fees: bool = True
    use_credits_for_marketplace_fees: bool = False


class CloseRule(_Model):
    """When a period counts as closed if the provider has not said so already."""

    business_days: int = Field(5, ge=0)
    country: str | None = Field(
        None, description="ISO 3166 code whose holidays count; default: profile.country."
    )

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        return None if value is None else holiday_country(value)


class ProviderConfig(_Model):
    """One provider the tenant buys from; the mapping key names it within the tenant."""

    plugin: str | None = Field(None, description="Provider plugin; defaults to the key.")
    settings: dict[str, Any] = {}
    close: CloseRule = Field(default_factory=CloseRule)
    marketplace_pricing: Literal["at_cost", "pricebook"] | None = Field(
        None,
        description="Third-party (marketplace) products on this provider's bill: at_cost "
        "passes them through as marketplace fees (no markup, no discount, support fee or "
        "tax; left off without include_marketplace_fees); pricebook prices them by the "
        "customer's pricebook like any product. Default: the provider plugin's (aws: "
        "at_cost; the others: pricebook).",
    )
    provider_credits: Literal["none", "refunds", "proportional"] = Field(
        "none",
        description="Provider credits and refunds on this provider's bill that reach "
        "customers' statements: none (all stay with you, shown in reconcile); refunds "
        "(each refund goes to the customer whose account it is on); proportional "
        "(refunds so, and every other provider credit of the period shared among the "
        "customers in proportion to their accounts' charges, to the cent; the share of "
        "accounts no customer claims stays with you).",
    )

    def plugin_name(self, key: str) -> str:
        """The plugin to use for this provider, ``key`` unless ``plugin`` is set."""
        return self.plugin or key


class PricebookRule(_Model):
    """A markup or discount for charges matching every scope given (none: all charges)."""

    service: str | None = None
    charge_category: ChargeCategory | None = None
    sku: str | None = None
    adjust: Literal["markup", "discount"]
    percent: DecimalValue = Field(ge=0, le=1000)
    basis: Literal["cost", "list"] = "cost"

    @field_validator("percent")
    @classmethod
    def _discount_at_most_100(cls, percent: Decimal, info: ValidationInfo) -> Decimal:
        if info.data.get("adjust") == "discount" and percent > 100:
            raise ValueError("a discount cannot exceed 100 percent")
        return percent


class PricebookVersion(_Model):
    """The rules in force from ``effective`` until the next version's date.

    A period is priced by the version in force on its first day: a version effective
    mid-period prices the periods that start after it.
    """

    effective: dt.date = Field(
        description="First day of the rules; a period uses the version in force on its first day."
    )
    rules: list[PricebookRule] = []


class Pricebook(_Model):
    """A customer's prices for one provider, versioned by effective date."""

    id: PricebookId
    provider: str
    versions: list[PricebookVersion] = Field(min_length=1)

    @field_validator("versions")
    @classmethod
    def _unique_dates(cls, versions: list[PricebookVersion]) -> list[PricebookVersion]:
        seen: set[dt.date] = set()
        for version in versions:
            if version.effective in seen:
                raise ValueError(f"two versions are effective on {version.effective}")
            seen.add(version.effective)
        return sorted(versions, key=lambda v: v.effective)


class TaxRate(_Model):
    """A named sales tax rate, e.g. ``0.0825`` for 8.25 %."""

    name: Annotated[str, _plain_text(TAX_NAME_LENGTH)]
    rate: DecimalValue = Field(ge=0, lt=1)
    erp_tax_code: Line | None = None


class SupportTier(_Model):
    """``percent`` of the part of the base up to ``up_to`` (above the previous tier's)."""

    up_to: DecimalValue | None = Field(None, gt=0, description="None: no upper bound.")
    percent: DecimalValue = Field(ge=0, le=100)


class SupportPlan(_Model):
    """A support fee on the non-marketplace subtotal after discount: tiers, then a minimum."""

    id: IdText
    tiers: list[SupportTier] = Field(min_length=1)
    minimum_fee: DecimalValue = Field(Decimal(0), ge=0)

    @field_validator("tiers")
    @classmethod
    def _ascending(cls, tiers: list[SupportTier]) -> list[SupportTier]:
        bounds = [t.up_to for t in tiers]
        if None in bounds[:-1]:
            raise ValueError("only the last tier may leave up_to empty (no upper bound)")
        finite = [b for b in bounds if b is not None]
        if finite != sorted(set(finite)):
            raise ValueError("tier up_to values must increase, e.g. 10000, 50000, then none")
        return tiers


class Customer(_Model):
    """One end customer: contact details, currency, pricebooks and cloud accounts."""

    id: CustomerId
    name: Annotated[str, _plain_text(CUSTOMER_NAME_LENGTH)]
    email: Line | None = None
    phone: Line | None = None
    address: list[Line] = Field([], description="One printed line per entry.")
    tax_id: Line | None = None
    invoice_currency: str
    pricebooks: dict[str, PricebookId] = Field({}, description="Provider key -> pricebook id.")
    accounts: dict[str, list[AccountId]] = Field({}, description="Provider key -> accounts.")
    tax: str | None = Field(None, description="A tax_rates name.")
    tax_exempt: bool = False
    payment_method: Line | None = None
    support_plan: str | None = Field(None, description="A support_plans id.")
    global_discount: DecimalValue = Field(
        Decimal(0), ge=0, le=100, description="Percent off the non-marketplace subtotal."
    )
    erp: dict[str, Line] = {}

    @field_validator("invoice_currency")
    @classmethod
    def _iso_currency(cls, code: str) -> str:
        if not _CURRENCY.match(code):
            raise ValueError(
                f"expected an ISO 4217 code of three capital letters like USD, not {code!r}"
            )
        # Minor units are known only for active currencies (connector.domain.money), and
        # credits are granted only in them: a statement in gold (XAU) or a withdrawn or
        # made-up code could be built, but never credited or imported by an ERP.
        if code in NOT_MONEY:
            raise ValueError(
                f"{code} is an ISO 4217 code without a minor unit (a metal, bond unit or "
                "test code), not money: use an active ISO 4217 currency like USD"
            )
        if not is_currency(code):
            raise ValueError(
                f"{code} is not an active ISO 4217 currency code: use one like USD, EUR or JPY"
            )
        return code


class DaemonPolicy(_Model):
    """What ``connector run`` may do for this tenant by itself."""

    auto_approve: bool = Field(False, description="Approve Drafts as soon as they are built.")
    auto_approve_max_total: DecimalValue | None = Field(
        None, description="Only Drafts whose total is at most this; larger ones wait."
    )
    notify: bool = Field(True, description="Email the customer when a statement is Open.")
    email_templates: str | None = Field(
        None, description="Folder (beside this file) overriding the email templates."
    )
    email_from: Line | None = None
    portal_url: str | None = Field(None, description="A link printed in the email.")

    def approves(self, total: Decimal) -> bool:
        """Whether a Draft of this ``total`` is approved without a person."""
        if not self.auto_approve:
            return False
        return self.auto_approve_max_total is None or total <= self.auto_approve_max_total


class ErpConfig(_Model):
    """The accounting system statements go to, and how our terms map onto its codes."""

    sink: str
    settings: dict[str, Any] = {}
    mappings: dict[str, Line] = {}


WEBHOOK_NAME_LENGTH = 64  # webhook_deliveries.endpoint
WEBHOOK_URL_LENGTH = 2000


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def webhook_url(url: str) -> str:
    """``url`` if events may be sent there: https, or http to this machine only.

    :raises ValueError: saying what is wrong and what would be valid.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) address such as https://erp.example/hooks")
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "a user name or password in the address would be a secret inline; the signature "
            "(secret:) is what authenticates events"
        )
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise ValueError(
            f"{url!r}: events are sent over https only (http is allowed to localhost, "
            "127.0.0.1 and ::1, for a receiver on this machine)"
        )
    return url


def webhook_events(events: list[str] | None) -> list[str] | None:
    """``events`` if every one is an event type the connector sends."""
    unknown = [e for e in events or [] if e not in EVENT_TYPES]
    if unknown:
        raise ValueError(
            f"unknown event type {', '.join(map(repr, unknown))}: choose from "
            f"{', '.join(EVENT_TYPES)} (leave events out for all of them)"
        )
    return events


def _secret_reference(value: Any) -> Any:
    # references.py reads SecretRef from this module, so it is imported when used.
    from connector.config.references import is_reference

    if not is_reference(value):
        raise PydanticCustomError("inline_secret", INLINE_SECRET_MESSAGE)
    return value


class WebhookEndpoint(_Model):
    """A receiver of signed events (docs/webhooks.md)."""

    name: Annotated[
        str,
        _plain_text(WEBHOOK_NAME_LENGTH),
        Field(description="Names the endpoint in `connector webhooks`; unique in the file."),
    ]
    url: Annotated[
        str,
        _plain_text(WEBHOOK_URL_LENGTH),
        AfterValidator(webhook_url),
        Field(description="https address (http only to localhost) events are POSTed to."),
    ]
    secret: Annotated[dict[str, str], BeforeValidator(_secret_reference)] = Field(
        description="Signs every event (HMAC-SHA256): {secret_env: NAME} or {secret_file: PATH}."
    )
    events: Annotated[list[str] | None, AfterValidator(webhook_events)] = Field(
        None, description=f"Event types sent here; default all: {', '.join(EVENT_TYPES)}."
    )
    timeout_seconds: float = Field(
        10, gt=0, le=60, description="How long one attempt may take before it counts as failed."
    )

    def wants(self, event_type: str) -> bool:
        """Whether events of ``event_type`` go to this endpoint."""
        return self.events is None or event_type in self.events


class TenantConfig(_Model):
    """One reseller's whole configuration, as read from ``tenants/<tenant>.yaml``."""

    tenant: str
    profile: Profile
    invoice_options: InvoiceOptions = Field(default_factory=InvoiceOptions)
    generation: GenerationOptions = Field(default_factory=GenerationOptions)
    providers: dict[ProviderKey, ProviderConfig]
    pricebooks: list[Pricebook] = []
    customers: list[Customer] = []
    tax_rates: list[TaxRate] = []
    support_plans: list[SupportPlan] = []
    erp: ErpConfig
    daemon: DaemonPolicy = Field(default_factory=DaemonPolicy)
    unassigned_spend: Literal["report", "block"] = "report"
    renderers: dict[str, dict[str, Any]] = Field(
        {},
        description="Settings per renderer name (e.g. html: {template_dir: templates}), "
        "handed to the renderer with this file's folder.",
    )
    exchange_rates: str | None = Field(
        None,
        description="CSV of period rates (period,from,to,rate) converting a provider's "
        "billing currency into a customer's invoice currency; relative to this file.",
    )
    webhooks: list[WebhookEndpoint] = Field(
        [], description="Endpoints that receive signed events (docs/webhooks.md)."
    )

    # Not part of the file: where it was read from, so relative paths resolve there.
    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    _accounts: dict[tuple[str, str], Customer] = PrivateAttr(default_factory=dict)
    # Customer id -> its place in ``customers``, built on first use (see ``customer``).
    _customer_index: dict[str, int] = PrivateAttr(default_factory=dict)

    @field_validator("tenant")
    @classmethod
    def _slug(cls, slug: str) -> str:
        if not _TENANT_SLUG.match(slug):
            raise ValueError(
                "expected a slug of lower-case letters, digits and '-', "
                "starting with a letter or digit, at most 63 characters"
            )
        return slug

    @model_validator(mode="after")
    def _link(self, info: ValidationInfo) -> TenantConfig:
        problems = cross_reference_problems(self.model_dump(mode="python"))
        if problems:
            text = "; ".join(f"{dotted(loc)}: {msg}" for loc, msg in problems)
            raise PydanticCustomError(CROSS_REFERENCE_ERROR, "{text}", {"text": text})
        for key, provider in self.providers.items():
            if provider.plugin is None:
                provider.plugin = key
        for customer in self.customers:
            for key, account_ids in customer.accounts.items():
                for account_id in account_ids:
                    self._accounts[(key, account_id)] = customer
        if info.context and info.context.get("base_dir") is not None:
            self._base_dir = Path(info.context["base_dir"])
        return self

    @property
    def base_dir(self) -> Path:
        """The tenant file's folder: relative paths in the file are relative to it."""
        return self._base_dir

    @base_dir.setter
    def base_dir(self, value: Path) -> None:
        self._base_dir = Path(value)

    def resolve_path(self, value: str | Path) -> Path:
        """``value`` as written in the file, made absolute against :attr:`base_dir`."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else self._base_dir / path

    def customer(self, customer_id: str) -> Customer:
        """The customer with this id; ``KeyError`` names the id when there is none.

        A look-up by id, not a walk of the list: the push asks once per statement. The
        index is checked against the list and rebuilt when the list has changed since
        (customers synced or added in place).
        """
        wanted = str(customer_id)
        customer = self._indexed_customer(wanted)
        if customer is None:
            # Ids are unique (validated); the first wins all the same, as a walk would.
            count = len(self.customers)
            self._customer_index = {
                c.id: count - 1 - n for n, c in enumerate(reversed(self.customers))
            }
            customer = self._indexed_customer(wanted)
        if customer is not None:
            return customer
        raise KeyError(f"tenant {self.tenant!r} has no customer with id {customer_id!r}")

    def _indexed_customer(self, customer_id: str) -> Customer | None:
        place = self._customer_index.get(customer_id)
        if place is None or place >= len(self.customers):
            return None
        customer = self.customers[place]
        return customer if customer.id == customer_id else None

    def pricebook(self, pricebook_id: str) -> Pricebook:
        """The pricebook with this id; ``KeyError`` names the id when there is none."""
        for pricebook in self.pricebooks:
            if pricebook.id == pricebook_id:
                return pricebook
        raise KeyError(f"tenant {self.tenant!r} has no pricebook with id {pricebook_id!r}")

    def support_plan(self, plan_id: str) -> SupportPlan:
        """The support plan with this id; ``KeyError`` names it when there is none."""
        for plan in self.support_plans:
            if plan.id == plan_id:
                return plan
        raise KeyError(f"tenant {self.tenant!r} has no support plan {plan_id!r}")

    def close_country(self, provider: str) -> str:
        """The country whose holidays the business-day close of ``provider`` skips."""
        return self.providers[provider].close.country or self.profile.country

    def tax_rate(self, name: str) -> TaxRate:
        """The tax rate with this name; ``KeyError`` names it when there is none."""
        for rate in self.tax_rates:
            if rate.name == name:
                return rate
        raise KeyError(f"tenant {self.tenant!r} has no tax rate named {name!r}")

    @property
    def exchange_rates_path(self) -> Path | None:
        """The exchange rates file, resolved against the tenant file's folder."""
        if not self.exchange_rates:
            return None
        path = Path(self.exchange_rates).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def customer_for_account(self, provider_key: str, account_id: str) -> Customer | None:
        """The customer an account's spend belongs to, or ``None`` for unassigned spend."""
        return self._accounts.get((provider_key, str(account_id)))
