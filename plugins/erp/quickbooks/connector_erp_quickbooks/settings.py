"""The sink's tenant settings, and the per-statement mapping they resolve to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from connector.contracts import PluginError, StatementDocument

_CURRENCY = re.compile(r"^[A-Z]{3}$")


class QuickBooksSettings(BaseModel):
    """``erp.settings`` of a tenant whose sink is ``quickbooks``.

    :param client_id: the app's client id (Intuit developer portal, Keys & credentials).
    :param client_secret: the app's client secret: ``{secret_env: NAME}`` or ``{secret_file: PATH}``
        in the tenant file (the core's check refuses it inline), resolved by the core
        to a plain string before the sink gets it.
    :param realm_id: the QuickBooks company id ("realmId") the tenant's invoices go to.
    :param environment: ``sandbox`` or ``production``: which API and which keys.
    :param base_url: the accounting API's base (``.../v3``), for a simulator; default: Intuit's.
    :param token_url: the OAuth token endpoint, for a simulator; default: Intuit's.
    :param redirect_uri: the redirect URI registered for the app; needed to connect only.
    :param company_country: the company's country (``US`` or another ISO code). US
        companies take sales tax as "TAX"/"NON" lines and one transaction tax code; all
        others take a tax code id on every line (VAT/GST).
    :param home_currency: the company's home currency; a US company's defaults to USD.
    :param item_ref: the id of the product/service item every line is booked to.
    :param item_refs: item ids by line kind (``marketplace``, ``credit``, ...), overriding
        ``item_ref`` for those lines.
    :param tax_code: US: the sales tax code id for the transaction (TxnTaxCodeRef);
        elsewhere: the tax code id of taxed lines.
    :param exempt_tax_code: elsewhere than the US: the tax code id of untaxed lines.
    :param tax_rate_ref: elsewhere than the US, optional: the tax *rate* id behind
        ``tax_code``; when set, our tax amount is sent as the invoice's tax line, so
        QuickBooks' total is ours even where it would round differently.
    :param terms_ref: the payment terms id shown on the invoice (the due date is ours).
    :param allow_online_payment: let customers pay the invoice online through Intuit.
    """

    model_config = ConfigDict(extra="forbid")

    # The core resolves the tenant file's {secret_env: NAME} / {secret_file: PATH} before we see it.
    client_id: str
    client_secret: SecretStr
    realm_id: str = Field(pattern=r"^[0-9]+$")
    environment: Literal["sandbox", "production"] = "production"
    base_url: str | None = None
    token_url: str | None = None
    redirect_uri: str | None = None
    company_country: str = Field("US", pattern=r"^[A-Z]{2}$")
    home_currency: str | None = None
    item_ref: str
    item_refs: dict[str, str] = {}
    tax_code: str | None = None
    exempt_tax_code: str | None = None
    tax_rate_ref: str | None = None
    terms_ref: str | None = None
    allow_online_payment: bool = False
    minor_version: int = Field(75, ge=75)
    timeout_seconds: float = Field(30.0, gt=0)

    @field_validator("home_currency")
    @classmethod
    def _iso_currency(cls, code: str | None) -> str | None:
        if code is not None and not _CURRENCY.match(code):
            raise ValueError(f"expected an ISO 4217 code like USD, not {code!r}")
        return code

    @model_validator(mode="after")
    def _home_currency_known(self) -> QuickBooksSettings:
        if self.home_currency is None:
            if not self.us_company:
                raise ValueError(
                    "home_currency is required for a company outside the US "
                    "(its QuickBooks home currency, e.g. GBP)"
                )
            self.home_currency = "USD"
        return self

    @property
    def us_company(self) -> bool:
        return self.company_country == "US"

    @property
    def token_key(self) -> str:
        """The token store key of this company (one refresh token per realm)."""
        return f"quickbooks:{self.realm_id}"

    def secret(self) -> str:
        """The client secret as a plain string."""
        return self.client_secret.get_secret_value()


def load_settings(settings: Any, where: str) -> QuickBooksSettings:
    """``settings`` validated; errors become one PluginError naming ``where``."""
    if isinstance(settings, QuickBooksSettings):
        return settings
    try:
        return QuickBooksSettings.model_validate(dict(settings))
    except ValueError as exc:
        raise PluginError(f"quickbooks sink settings for {where}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class InvoiceMapping:
    """The QuickBooks ids one statement is delivered with: settings, overridden by mappings."""

    customer_ref: str | None
    customer_name: str
    item_ref: str
    item_refs: dict[str, str]
    tax_code: str | None
    exempt_tax_code: str | None
    tax_rate_ref: str | None
    terms_ref: str | None

    def item_for(self, kind: str) -> str:
        return self.item_refs.get(kind) or self.item_ref


def resolve_mapping(settings: QuickBooksSettings, document: StatementDocument) -> InvoiceMapping:
    """Settings overridden by ``document.erp_mappings``; an empty mapping value is ignored.

    Keys: ``customer_ref`` (a customer id: used as is), ``customer_name`` (the DisplayName
    to find or create instead of the customer's name), ``item_ref``, ``item_ref.<kind>``,
    ``tax_code``, ``exempt_tax_code``, ``tax_rate_ref``, ``terms_ref``.
    """
    mappings = document.erp_mappings

    def pick(key: str, default: str | None) -> str | None:
        return mappings.get(key) or default

    item_refs = dict(settings.item_refs)
    for key, value in mappings.items():
        if key.startswith("item_ref.") and value:
            item_refs[key.removeprefix("item_ref.")] = value
    return InvoiceMapping(
        customer_ref=pick("customer_ref", None),
        customer_name=pick("customer_name", document.customer.name) or document.customer.name,
        item_ref=pick("item_ref", settings.item_ref) or settings.item_ref,
        item_refs=item_refs,
        tax_code=pick("tax_code", settings.tax_code),
        exempt_tax_code=pick("exempt_tax_code", settings.exempt_tax_code),
        tax_rate_ref=pick("tax_rate_ref", settings.tax_rate_ref),
        terms_ref=pick("terms_ref", settings.terms_ref),
    )
