"""Daemon settings: ``config/connector.yaml``, overridden by ``CONNECTOR_*`` variables.

Every key can be set in the environment: ``CONNECTOR_DATABASE_URL`` for ``database_url``,
``CONNECTOR_SCHEDULE__REFRESH_MINUTES`` for ``schedule.refresh_minutes``. Relative paths
(``tenants_dir``, ``output_dir``, ``secrets_dir`` and a relative SQLite file in
``database_url``) are relative to the settings file's folder, so the daemon finds the
same files whatever directory it is started from; values from the environment are
relative to the current directory, as a shell user would expect.
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from connector.config.errors import ConfigError, ConfigIssue
from connector.config.loader import describe_error
from connector.config.yamlfile import YamlDocument, dotted, read_yaml
from connector.storage.timeouts import DatabaseTimeouts

ENV_PREFIX = "CONNECTOR_"
ENV_NESTED_DELIMITER = "__"
DEFAULT_SETTINGS_FILE = Path("config/connector.yaml")
ENVIRONMENT = "<environment>"

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# sqlite:///relative.db, sqlite+pysqlite:///relative.db?mode=ro; four slashes = absolute.
_SQLITE_URL = re.compile(r"^(?P<scheme>sqlite(?:\+\w+)?:///)(?P<path>[^?]*)(?P<query>\?.*)?$")

# pydantic-settings builds its sources from the class, so the data of the file being
# loaded travels to settings_customise_sources out of band, one load at a time.
_FILE_DATA: ContextVar[dict[str, Any] | None] = ContextVar("connector_settings_file", default=None)


class ScheduleSettings(BaseModel):
    """How often the daemon works."""

    model_config = ConfigDict(extra="forbid")

    refresh_minutes: int = Field(60, ge=1, description="Fetch provider data this often.")
    outbox_seconds: int = Field(30, ge=1, description="Push pending ERP deliveries this often.")
    sync_minutes: int = Field(60, ge=1, description="Read payment status this often.")
    lease_seconds: int = Field(
        300, ge=3, description="A replica's hold on a unit of work; taken over after it."
    )
    backoff_max_minutes: int = Field(
        60, ge=1, description="Longest wait before a failing tenant is tried again."
    )
    shutdown_seconds: int = Field(
        25, ge=1, le=300, description="SIGTERM to exit; keep below systemd's TimeoutStopSec."
    )


_DB = DatabaseTimeouts()  # one set of defaults, whichever way the database is opened


class DatabaseTimeoutSettings(BaseModel):
    """How long the database may keep the daemon waiting (0: no limit).

    Without them a silent network partition blocks PostgreSQL calls for ~15 minutes.
    The statement limit must outlast the longest legitimate statement (one of a bulk
    ingest or a build); migrations run without the statement and lock limits. A value
    the database URL sets itself (``?connect_timeout=``, ``options=-c ...``) wins.
    """

    model_config = ConfigDict(extra="forbid")

    connect_seconds: int = Field(
        _DB.connect_seconds, ge=0, description="PostgreSQL: connecting to the server."
    )
    statement_seconds: float = Field(
        _DB.statement_seconds, ge=0, description="PostgreSQL: one statement (statement_timeout)."
    )
    lock_seconds: float = Field(
        _DB.lock_seconds,
        ge=0,
        description="PostgreSQL: waiting for a row or table lock (lock_timeout).",
    )
    idle_in_transaction_seconds: float = Field(
        _DB.idle_in_transaction_seconds,
        ge=0,
        description="PostgreSQL: a transaction left idle before the server ends it.",
    )
    keepalive_idle_seconds: int = Field(
        _DB.keepalive_idle_seconds,
        ge=0,
        description="PostgreSQL: TCP keepalive probes after this much silence.",
    )
    keepalive_interval_seconds: int = Field(
        _DB.keepalive_interval_seconds, ge=1, description="Between keepalive probes."
    )
    keepalive_count: int = Field(
        _DB.keepalive_count, ge=1, description="Unanswered probes that drop the link."
    )
    tcp_user_timeout_seconds: float = Field(
        _DB.tcp_user_timeout_seconds,
        ge=0,
        description="PostgreSQL: data sent and not acknowledged for this long.",
    )
    sqlite_busy_seconds: float = Field(
        _DB.sqlite_busy_seconds, ge=0, description="SQLite: waiting for a writer."
    )

    def timeouts(self) -> DatabaseTimeouts:
        """What :class:`~connector.storage.db.Database` takes."""
        return DatabaseTimeouts(**self.model_dump())


class DatabasePoolSettings(BaseModel):
    """Database connections each process keeps (SQLAlchemy's pool; PostgreSQL only).

    Every ``connector serve`` worker has its own pool: the server needs up to
    ``api.workers`` x (``size`` + ``overflow``) connections of PostgreSQL's
    ``max_connections`` (100 by default), beside the daemons'.
    """

    model_config = ConfigDict(extra="forbid")

    size: int = Field(5, ge=1, le=1000, description="Connections kept open.")
    overflow: int = Field(
        10, ge=0, le=1000, description="Opened beyond `size` while busy, closed when returned."
    )


class SmtpSettings(BaseModel):
    """Where notification emails go; no ``host``, no emails. Credentials by reference."""

    model_config = ConfigDict(extra="forbid")

    host: str | None = None
    port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username_env: str | None = Field(None, description="Variable holding the SMTP user.")
    password_env: str | None = Field(None, description="Variable holding the password.")
    from_address: str | None = None
    ca_file: Path | None = None
    timeout_seconds: float = Field(30, gt=0)
    notify_max_age_days: int = Field(
        7, ge=0, description="Never email about statements approved longer ago than this."
    )


class MetricsSettings(BaseModel):
    """Where /healthz, /readyz and /metrics listen (port 0: not at all)."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(9464, ge=0, le=65535)


class ApiSettings(BaseModel):
    """Where the billing API and review page listen."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        False, description="Serve the billing API and review page inside `connector run`."
    )
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    workers: int = Field(
        1,
        ge=1,
        le=64,
        description="`connector serve` processes sharing the port (one per CPU core is usual).",
    )
    threads: int = Field(
        8,
        ge=1,
        le=256,
        description="Requests each process works on at once; the rest wait their turn in "
        "the order they came. More than a few only share one interpreter's time among "
        "more requests: with 50 clients listing, 4-12 answered the slowest hundredth in "
        "240-305 ms, 40 in 275-426 ms.",
    )
    portal_url: str | None = Field(
        None,
        description="The address customers reach this app at (e.g. https://billing.example.com): "
        'the "New customer invoice" email links to the statement in its portal there. '
        "Unset: no link (or the tenant's notifications.portal_url as it is).",
        pattern=r"^https?://[^\s]+$",
    )


class DaemonSettings(BaseSettings):
    """The daemon's own settings (tenants have their own files in ``tenants_dir``)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter=ENV_NESTED_DELIMITER, extra="forbid"
    )

    database_url: str = "sqlite:///connector.db"
    database_timeouts: DatabaseTimeoutSettings = Field(default_factory=DatabaseTimeoutSettings)
    database_pool: DatabasePoolSettings = Field(default_factory=DatabasePoolSettings)
    tenants_dir: Path = Path("tenants")
    output_dir: Path = Path("out")
    secrets_dir: Path | None = None
    #: The Fernet key that encrypts ERP tokens at rest (``connector erp new-key`` makes
    #: one); keep it in CONNECTOR_TOKEN_KEY, not in the settings file.
    token_key: str | None = Field(None, repr=False)
    #: Processes that read and build statements while the build stores them (see
    #: connector.pipeline.build.parts); 0: one per CPU core; 1: all in the build's own.
    build_workers: int = Field(
        0, ge=0, description="Statement build processes; 0: one per CPU core."
    )
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)

    _config_file: Path | None = PrivateAttr(default=None)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, level: str) -> str:
        if level.upper() not in _LOG_LEVELS:
            raise ValueError(f"expected one of {', '.join(_LOG_LEVELS)}")
        return level.upper()

    @property
    def config_file(self) -> Path | None:
        """The settings file these settings were read from, if any."""
        return self._config_file

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win: explicit arguments, then the environment, then the file.
        file_settings = InitSettingsSource(settings_cls, dict(_FILE_DATA.get() or {}))
        return (init_settings, env_settings, file_settings)


def resolve_sqlite_url(url: str, base_dir: Path) -> str:
    """Make the file of a relative SQLite URL absolute against ``base_dir``.

    In-memory databases, ``file:`` URIs and non-SQLite URLs are returned unchanged.
    """
    match = _SQLITE_URL.match(url)
    if not match:
        return url
    path = match["path"]
    if not path or path.startswith((":memory:", "file:")) or Path(path).is_absolute():
        return url
    absolute = (base_dir / Path(path).expanduser()).resolve()
    return f"{match['scheme']}{absolute}{match['query'] or ''}"


def _env_name(loc: tuple[str | int, ...]) -> str | None:
    """The environment variable that set the value at ``loc``, if one did."""
    present = {name.upper() for name in os.environ}
    for depth in range(len(loc), 0, -1):
        name = ENV_PREFIX + ENV_NESTED_DELIMITER.join(str(p) for p in loc[:depth]).upper()
        if name in present:
            return name
    return None


def _issues(exc: ValidationError, doc: YamlDocument | None) -> list[ConfigIssue]:
    issues = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        message = describe_error(error, DaemonSettings)
        env_name = _env_name(loc)
        if env_name is not None or doc is None:
            issues.append(ConfigIssue(ENVIRONMENT, None, env_name or dotted(loc), message))
        else:
            issues.append(doc.issue(loc, message))
    return issues


def _resolve_paths(settings: DaemonSettings, base_dir: Path) -> DaemonSettings:
    updates: dict[str, Any] = {}
    for name in ("tenants_dir", "output_dir", "secrets_dir"):
        value: Path | None = getattr(settings, name)
        if value is None:
            continue
        value = value.expanduser()
        if not value.is_absolute():
            root = Path.cwd() if _env_name((name,)) else base_dir
            value = (root / value).resolve()
        updates[name] = value
    root = Path.cwd() if _env_name(("database_url",)) else base_dir
    updates["database_url"] = resolve_sqlite_url(settings.database_url, root)
    return settings.model_copy(update=updates)  # copies _config_file along


def load_settings(path: Path | str | None = None) -> DaemonSettings:
    """Read the daemon settings, with ``CONNECTOR_*`` environment variables on top.

    :param path: the settings file; when ``None``, ``config/connector.yaml`` in the
        current directory if it exists, else defaults and the environment only.
    :raises ConfigError: every problem at once, each with its file and line (or
        ``<environment>`` and the variable's name).
    """
    if path is None and DEFAULT_SETTINGS_FILE.is_file():
        path = DEFAULT_SETTINGS_FILE
    doc: YamlDocument | None = None
    data: dict[str, Any] = {}
    issues: list[ConfigIssue] = []
    if path is not None:
        path = Path(path)
        doc, issues = read_yaml(path)
        if doc is None:
            raise ConfigError(issues)
        if isinstance(doc.data, dict):
            data = doc.data
        elif doc.data is not None:
            issues.append(ConfigIssue(doc.file, 1, "", "expected a mapping of settings keys"))
    token = _FILE_DATA.set(data)
    try:
        settings = DaemonSettings()
    except ValidationError as exc:
        raise ConfigError([*issues, *_issues(exc, doc)]) from None
    except SettingsError as exc:  # e.g. an environment value that is not valid JSON
        raise ConfigError([*issues, ConfigIssue(ENVIRONMENT, None, "", str(exc))]) from None
    finally:
        _FILE_DATA.reset(token)
    if issues:
        raise ConfigError(issues)
    base_dir = path.parent.resolve() if path is not None else Path.cwd()
    settings._config_file = path.resolve() if path is not None else None
    return _resolve_paths(settings, base_dir)
