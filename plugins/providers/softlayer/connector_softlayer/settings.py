"""The tenant's ``softlayer`` provider settings."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)

from connector.contracts import PluginError

#: The public REST endpoint; the private network one is https://api.service.softlayer.com/rest/v3.1/
DEFAULT_ENDPOINT = "https://api.softlayer.com/rest/v3.1/"


def _account_text(value: object) -> object:
    # YAML reads an unquoted account number as an int; the account id is a label.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class SoftLayerSettings(BaseModel):
    """Who to call the SoftLayer API as, and which invoices to read.

    ``username`` and ``api_key`` are the API user's credentials (for an IBM Cloud API key
    the username is ``apikey``). ``account_id``, when given, must be the account those
    credentials belong to: a safety check, so that a pasted key cannot bill the wrong
    customer. ``billing_day`` overrides the account's anniversary day (1..31).
    Without ``since``, a fetch of all periods reads the last ``lookback_periods``
    anniversary periods up to today.
    """

    model_config = ConfigDict(extra="forbid")

    username: str = Field(description="SoftLayer API username ('apikey' for an IBM Cloud key)")
    # The core resolves the tenant file's {secret_env: NAME} / {secret_file: PATH} before we see it.
    api_key: SecretStr = Field(description="the API key (a secret reference in the tenant file)")
    endpoint_url: str = Field(
        default=DEFAULT_ENDPOINT, description="SoftLayer REST endpoint (…/rest/v3.1/)"
    )
    account_id: Annotated[str | None, BeforeValidator(_account_text)] = Field(
        default=None, description="the SoftLayer account number the credentials must belong to"
    )
    billing_day: int | None = Field(
        default=None, ge=1, le=31, description="anniversary day; default: the account's"
    )
    since: dt.date | None = Field(
        default=None, description="read invoices of the periods from this date on"
    )
    lookback_periods: int = Field(
        default=3, ge=1, le=60, description="periods read when since is not set"
    )
    timeout: int = Field(default=60, ge=1, le=600, description="seconds per API call")

    @field_validator("username")
    @classmethod
    def _username_not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be the SoftLayer API username (or 'apikey')")
        return value.strip()

    @field_validator("endpoint_url")
    @classmethod
    def _rest_endpoint(cls, value: str) -> str:
        # The REST transport is the one this plugin reads amounts exactly from.
        if not value.startswith(("https://", "http://")) or "/rest" not in value:
            raise ValueError(f"must be a SoftLayer REST endpoint such as {DEFAULT_ENDPOINT}")
        return value

    @field_validator("account_id")
    @classmethod
    def _account_digits(cls, value: str | None) -> str | None:
        if value is not None and not value.strip().isdigit():
            raise ValueError("must be the SoftLayer account number, digits only, e.g. 1234567")
        return None if value is None else value.strip()

    def secret(self) -> str:
        """The API key as a plain string."""
        return self.api_key.get_secret_value()


def load_settings(raw: dict[str, object]) -> SoftLayerSettings:
    """Validate ``raw``; the error names every bad key but never echoes a value (secrets)."""
    try:
        return SoftLayerSettings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)
        )
        raise PluginError(f"softlayer provider settings are invalid: {problems}") from None
