"""Structured logs: one JSON object per line, with context ids, secrets masked.

``log_context(tenant=..., provider=...)`` adds ids to every record logged inside it
(a context variable, so each thread keeps its own). A record logged with
``extra={"fields": {...}}`` (the API's access lines, audit entries) has those fields
as keys of its JSON object, for a log search to filter on; its message says the same
for people reading text logs. :class:`RedactingFilter` sits on the handler, so it
sees every record that is written, whichever logger made it, and masks secrets with
:func:`connector.masking.mask_secrets` (known values and secret-looking ones), also
inside tracebacks and fields.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys
import types
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pythonjsonlogger.json

from connector.masking import mask_secrets, tenant_secrets, usable_secrets

if TYPE_CHECKING:
    from connector.config.settings import DaemonSettings
    from connector.config.tenant import TenantConfig

CONTEXT_KEYS = ("tenant", "provider", "period", "statement", "unit", "replica")
#: The record attribute holding a line's own fields (``extra={"fields": {...}}``).
FIELDS = "fields"
_BASE_KEYS = frozenset({"ts", "level", "logger", "message", "exception", *CONTEXT_KEYS})
# An API key named by its id alone: 12 hex digits, not followed by the secret part.
_KEY_ACTOR = re.compile(r"\bapi-key:[0-9a-f]{12}(?![\w-])")
_NO_IDS: Mapping[str, Any] = types.MappingProxyType({})
_CONTEXT: ContextVar[Mapping[str, Any]] = ContextVar("connector_log_context", default=_NO_IDS)


@contextmanager
def log_context(**ids: Any) -> Iterator[None]:
    """Add ``ids`` (tenant, provider, period, statement, unit) to records logged inside."""
    token = _CONTEXT.set({**_CONTEXT.get(), **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


class RedactingFilter(logging.Filter):
    """Masks secret-looking values and every registered secret value in a record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self.add_secrets(secrets)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        self._secrets |= usable_secrets(secrets)

    def redact(self, text: str) -> str:
        # "api-key:<id>" is how the audit trail names a key (Principal.actor): the id is
        # the public part of bc_<id>_<secret>, shown in lists, and the one thing that
        # says who approved. It reads like "api-key: <secret>" to mask_secrets, so it is
        # set aside while the rest is masked.
        kept = _KEY_ACTOR.findall(text)
        if not kept:
            return mask_secrets(text, self._secrets)
        parts = [mask_secrets(part, self._secrets) for part in _KEY_ACTOR.split(text)]
        return "".join(p + (kept[i] if i < len(kept) else "") for i, p in enumerate(parts))

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        record.exc_info = None  # formatted (and masked) above; never re-formatted raw
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key in CONTEXT_KEYS:
            value = getattr(record, key, None)
            if isinstance(value, str):
                setattr(record, key, self.redact(value))
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, Mapping):
            setattr(record, FIELDS, {
                key: self.redact(value) if isinstance(value, str) else value
                for key, value in fields.items()
            })  # fmt: skip
        return True


class ContextFilter(logging.Filter):
    """Copies the current :func:`log_context` ids onto the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _CONTEXT.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(pythonjsonlogger.json.JsonFormatter):
    """``{"ts", "level", "logger", "message", <context ids>, <fields>, "exception"}``
    per line; a field never replaces one of the fixed keys or a context id.

    python-json-logger does the record-to-JSON work; this subclass names the keys, gives
    the time in UTC to the millisecond, flattens the record's ``fields`` into the object
    and keeps only those keys (uvicorn's ``color_message`` and other attributes that
    libraries set on their records stay out of the log).
    """

    def __init__(self) -> None:
        super().__init__(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={
                "asctime": "ts", "levelname": "level", "name": "logger", "exc_info": "exception"
            },
            json_default=str,
            json_ensure_ascii=False,
        )  # fmt: skip

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds")

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        fields = log_data.get(FIELDS)
        entry = {k: v for k, v in log_data.items() if k in _BASE_KEYS and v is not None}
        if isinstance(fields, Mapping):
            entry.update((k, v) for k, v in fields.items() if k not in _BASE_KEYS)
        return entry


def known_secrets(
    settings: DaemonSettings, tenants: Iterable[TenantConfig], extra: Iterable[str] = ()
) -> list[str]:
    """Every secret value the daemon can know: token key, database password, the
    values behind the tenants' secret references, SMTP password (``extra``)."""
    found = [settings.token_key or "", *extra]
    try:
        from sqlalchemy.engine import make_url

        found.append(make_url(settings.database_url).password or "")
    except Exception:  # noqa: BLE001 (a malformed URL is reported elsewhere)
        pass
    for tenant in tenants:
        found.extend(tenant_secrets(tenant))
    return [s for s in found if s]


def configure_logging(
    level: str = "INFO", fmt: str = "json", stream: Any = None, secrets: Iterable[str] = ()
) -> RedactingFilter:
    """Send every log record to ``stream`` (stderr) as JSON (or text), masked.

    Replaces the root logger's handlers; returns the filter so secrets learnt later
    (tenant files reloaded) can be added with ``add_secrets``.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    redactor = RedactingFilter(secrets)
    handler.addFilter(ContextFilter())
    handler.addFilter(redactor)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return redactor


def configure_verbose_logging(config_path: Path | str | None) -> RedactingFilter:
    """``connector -v COMMAND``: INFO records (DEBUG if the settings ask for it) in the
    settings' ``log_format``, masked, through :func:`configure_logging` as ``run`` and
    ``serve`` log. Settings that cannot be read give text: the command itself reports
    their problems."""
    from connector.config.errors import ConfigError
    from connector.config.settings import load_settings

    try:
        settings = load_settings(config_path)
    except ConfigError:
        return configure_logging("INFO", "text")
    level = "DEBUG" if settings.log_level == "DEBUG" else "INFO"
    return configure_logging(level, settings.log_format, secrets=known_secrets(settings, []))
