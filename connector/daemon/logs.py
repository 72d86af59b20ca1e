"""Structured logs: one JSON object per line, with context ids, secrets masked.

``log_context(tenant=..., provider=...)`` adds ids to every record logged inside it
(a context variable, so each thread keeps its own). :class:`RedactingFilter` sits on
the handler, so it sees every record that is written, whichever logger made it, and
masks secrets with :func:`connector.masking.mask_secrets` (known values and
secret-looking ones), also inside tracebacks.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import types
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from connector.config.settings import DaemonSettings
from connector.config.tenant import TenantConfig
from connector.masking import mask_secrets, tenant_secrets, usable_secrets

CONTEXT_KEYS = ("tenant", "provider", "period", "statement", "unit", "replica")
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
        return mask_secrets(text, self._secrets)

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
        return True


class ContextFilter(logging.Filter):
    """Copies the current :func:`log_context` ids onto the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _CONTEXT.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", <context ids>, "exception"}`` per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in CONTEXT_KEYS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


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
