"""The sink's tenant settings, and the per-statement mapping they resolve to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)

from connector.contracts import PluginError, StatementDocument

#: Xero allows at most two tracking categories on a line.
MAX_TRACKING = 2
#: ``erp_mappings`` keys with this prefix set a tracking option: ``tracking.Region: West``.
TRACKING_PREFIX = "tracking."
DEFAULT_SCOPES = (
    "offline_access",
    "accounting.transactions",
    "accounting.contacts",
    "accounting.settings.read",
    "accounting.attachments",
)


class TrackingSetting(BaseModel):
    """One tracking category and the option every line gets (``Region`` / ``North``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    option: str = Field(min_length=1)


class XeroSinkSettings(BaseModel):
    """``erp.settings`` of a tenant whose sink is ``xero``.

    Secrets arrive already resolved by the core (the tenant file holds references).
    Every code below can be overridden per customer through ``erp_mappings``.

    :param tenant_id: the Xero organisation (``xero-tenant-id``) invoices go to.
    :param account_code: revenue account of every line (``erp_mappings["account_code"]``).
    :param tax_type: Xero tax type of taxed lines, e.g. ``OUTPUT`` (``erp_mappings["tax_type"]``).
    :param exempt_tax_type: tax type of lines without tax: marketplace pass-through,
        credits, and every line of an untaxed statement (``erp_mappings["exempt_tax_type"]``).
    :param item_code: Xero item on every line, if any (``erp_mappings["item_code"]``).
    :param tracking: up to two tracking categories with the option every line carries.
    :param status: the status invoices are created in.
    :param attach_pdf: attach the statement PDF to each invoice created.
    :param base_url: the API host; another one only for simulators and tests.
    :param max_attempts: tries of one call through timeouts, 5xx and 429 before giving up.
    """

    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(min_length=1)
    # The core resolves the tenant file's {secret_env: NAME} / {secret_file: PATH} before we see it.
    client_secret: SecretStr = Field(
        description="the app's client secret (a secret reference in the tenant file)"
    )
    tenant_id: str = Field(min_length=1)
    account_code: str = "200"
    tax_type: str = "OUTPUT"
    exempt_tax_type: str = "NONE"
    item_code: str | None = None
    tracking: list[TrackingSetting] = Field(default_factory=list, max_length=MAX_TRACKING)
    status: Literal["DRAFT", "SUBMITTED", "AUTHORISED"] = "AUTHORISED"
    branding_theme_id: str | None = None
    attach_pdf: bool = True
    base_url: str = "https://api.xero.com"
    identity_url: str = "https://identity.xero.com"
    login_url: str = "https://login.xero.com"
    redirect_uri: str = "http://localhost:8765/xero/callback"
    scopes: list[str] = Field(default_factory=lambda: list(DEFAULT_SCOPES))
    timeout_seconds: float = Field(60.0, gt=0)
    max_attempts: int = Field(5, ge=1, le=20)

    @field_validator("base_url", "identity_url", "login_url")
    @classmethod
    def _no_trailing_slash(cls, url: str) -> str:
        return url.rstrip("/")

    def secret(self) -> str:
        """The client secret as a plain string."""
        return self.client_secret.get_secret_value()

    @property
    def token_key(self) -> str:
        """The organisation's key in the token store."""
        return f"xero:{self.tenant_id}"


def load_settings(raw: Mapping[str, Any], tenant: str = "") -> XeroSinkSettings:
    """Validate ``raw``; the error names every bad key but never echoes a value (secrets)."""
    try:
        return XeroSinkSettings.model_validate(dict(raw))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)
        )
        where = f" for tenant {tenant}" if tenant else ""
        raise PluginError(f"xero sink settings{where} are invalid: {problems}") from None


@dataclass(frozen=True, slots=True)
class InvoiceMapping:
    """The Xero codes one statement is created with: settings, overridden by its mappings."""

    contact_number: str
    contact_name: str
    account_code: str
    tax_type: str
    exempt_tax_type: str
    item_code: str | None
    branding_theme_id: str | None
    tracking: tuple[tuple[str, str], ...]


def resolve_mapping(settings: XeroSinkSettings, document: StatementDocument) -> InvoiceMapping:
    """Settings overridden by ``document.erp_mappings``; an empty mapping value is ignored.

    Raises PluginError when the tracking categories add up to more than Xero's two.
    """
    mappings: Mapping[str, str] = document.erp_mappings

    def pick(key: str, default: str | None) -> str | None:
        return mappings.get(key) or default

    tracking = {entry.name: entry.option for entry in settings.tracking}
    for key, option in mappings.items():
        if key.startswith(TRACKING_PREFIX) and option:
            tracking[key[len(TRACKING_PREFIX) :]] = option
    if len(tracking) > MAX_TRACKING:
        raise PluginError(
            f"statement {document.number}: {len(tracking)} tracking categories "
            f"({', '.join(sorted(tracking))}) but Xero allows at most {MAX_TRACKING} per line; "
            "remove one from the sink settings or the customer's erp mappings"
        )
    return InvoiceMapping(
        contact_number=pick("contact_number", document.customer_id) or document.customer_id,
        contact_name=pick("contact_name", document.customer.name) or document.customer.name,
        account_code=pick("account_code", settings.account_code) or settings.account_code,
        tax_type=pick("tax_type", settings.tax_type) or settings.tax_type,
        exempt_tax_type=pick("exempt_tax_type", settings.exempt_tax_type)
        or settings.exempt_tax_type,
        item_code=pick("item_code", settings.item_code),
        branding_theme_id=pick("branding_theme_id", settings.branding_theme_id),
        tracking=tuple(sorted(tracking.items())),
    )
