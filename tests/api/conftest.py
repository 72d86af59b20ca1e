"""Two tenants with October's AWS Drafts, keys of every scope, and a client for the API.

``acme`` is the example tenant with an exchange-rates file; ``globex`` is a copy with
the same customer ids and its own invoice numbers, so a leak between tenants would
show as a statement or customer answering for the wrong key.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from connector.access.api_keys import create_key
from connector.config.settings import DaemonSettings
from connector.domain.periods import parse_period
from connector.pipeline.build.build import generate
from connector.pipeline.ingest.ingest import ingest
from connector.plugins import load_plugins
from connector.runtime.runtime import Runtime, open_runtime
from tests.conftest import REPO

CUR = REPO / "connector/demo_data/aws/cur-2026-10-00001.csv"
OCTOBER = parse_period("2026-10")
AFTER_CLOSE = dt.date(2026, 11, 6)
# 1 USD = 0.9215 EUR for October (acme's rates file).
EUR_RATE = "0.9215"

with warnings.catch_warnings():
    # Starlette asks for httpx2; httpx is what the project installs, and works.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture(scope="session")
def plugin_host():
    """Plugins load once per run: every app in these tests uses the same ones."""
    return load_plugins()


def write_tenants(folder: Path) -> Path:
    """acme (with rates) and globex (the same customer ids, and 2001 only it has)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (REPO / "config/tenants/acme.yaml").read_text()
    text = text.replace("../../connector/demo_data/aws", str(CUR.parent))
    (folder / "rates.csv").write_text(f"period,from,to,rate\n2026-10,USD,EUR,{EUR_RATE}\n")
    (folder / "acme.yaml").write_text(text + "\nexchange_rates: rates.csv\n")
    globex = text.replace("tenant: acme", "tenant: globex").replace("ACME-", "GLBX-")
    # A customer acme does not have (acme leaves this account unassigned).
    globex += (
        '\n  - id: "2001"\n    name: Globex Only Ltd\n    invoice_currency: USD\n'
        '    pricebooks: {aws: aws-standard}\n    accounts: {aws: ["555555555555"]}\n'
    )
    (folder / "globex.yaml").write_text(globex)
    return folder


def build_october(runtime: Runtime, tenant: str) -> None:
    ingest(runtime, tenant, "aws")
    generate(runtime, tenant, "aws", OCTOBER, today=AFTER_CLOSE)


@pytest.fixture
def runtime(db_url: str, tmp_path: Path, plugin_host):
    tenants = write_tenants(tmp_path / "tenants")
    settings = DaemonSettings(database_url=db_url, tenants_dir=tenants, output_dir=tmp_path / "out")
    rt = open_runtime(settings, plugin_host)
    build_october(rt, "acme")
    build_october(rt, "globex")
    yield rt
    rt.db.dispose()


@pytest.fixture
def sqlite_runtime(tmp_path: Path, plugin_host):
    """As ``runtime``, on SQLite only (for the slow suites: schemathesis, the browser)."""
    tenants = write_tenants(tmp_path / "tenants")
    settings = DaemonSettings(
        database_url=f"sqlite:///{tmp_path / 'api.db'}",
        tenants_dir=tenants,
        output_dir=tmp_path / "out",
    )
    rt = open_runtime(settings, plugin_host)
    build_october(rt, "acme")
    build_october(rt, "globex")
    yield rt
    rt.db.dispose()


@dataclass(frozen=True)
class Keys:
    """Whole keys (``bc_<id>_<secret>``) for each role in the tests."""

    operator: str
    read: str
    customer: str  # acme customer 1001
    other_customer: str  # acme customer 1002
    globex_operator: str


@pytest.fixture
def keys(runtime: Runtime) -> Keys:
    return make_keys(runtime)


def make_keys(runtime: Runtime) -> Keys:
    return Keys(
        operator=create_key(runtime, "acme", "operator", label="ops").token,
        read=create_key(runtime, "acme", "read").token,
        customer=create_key(runtime, "acme", "customer", "1001").token,
        other_customer=create_key(runtime, "acme", "customer", "1002").token,
        globex_operator=create_key(runtime, "globex", "operator").token,
    )


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def client(runtime: Runtime):
    from connector.api import create_app

    with TestClient(create_app(runtime)) as test_client:
        yield test_client


def statement_ids(runtime: Runtime, tenant: str) -> dict[str, str]:
    """Customer id -> id of the tenant's October AWS statement."""
    from sqlalchemy import select

    from connector.storage import models as m

    with runtime.db.transaction() as session:
        rows = session.execute(
            select(m.Statement.customer_id, m.Statement.id).where(m.Statement.tenant_id == tenant)
        )
        return dict(rows.all())


@pytest.fixture(autouse=True)
def _root_logging_restored():
    """``connector serve`` sets up logging as the process would (the root logger's
    handlers replaced); each test gets the root logger back as it found it."""
    import logging

    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


class LogBuffer:
    """What the process logged, as text and as parsed JSON lines."""

    def __init__(self) -> None:
        import io

        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self, logger: str | None = None) -> list[dict]:
        import json

        found = [json.loads(line) for line in self.text.splitlines()]
        return [e for e in found if logger is None or e["logger"] == logger]


@pytest.fixture
def json_log():
    """The process's JSON logging (``configure_logging``) into a :class:`LogBuffer`.
    The test client's own request log (which shows query strings) is left out."""
    import logging

    from connector.daemon.logs import configure_logging

    buffer = LogBuffer()
    configure_logging("INFO", "json", stream=buffer.stream)
    httpx = logging.getLogger("httpx")
    level = httpx.level
    httpx.setLevel(logging.WARNING)
    yield buffer
    httpx.setLevel(level)


@pytest.fixture
def sql_sent(runtime: Runtime, monkeypatch: pytest.MonkeyPatch):
    """Every SQL statement the runtime sends from now on, as sent: its engine's, and the
    reads made on the event loop (the list, on PostgreSQL)."""
    from sqlalchemy import event

    from connector.storage.async_reads import AsyncReads

    seen: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    real = AsyncReads.rows

    async def rows(self, sql, values):  # type: ignore[no-untyped-def]
        seen.append(sql)
        return await real(self, sql, values)

    monkeypatch.setattr(AsyncReads, "rows", rows)
    event.listen(runtime.db.engine, "before_cursor_execute", remember)
    yield seen
    event.remove(runtime.db.engine, "before_cursor_execute", remember)
