"""The example tenant with webhook endpoints pointed at a local receiver, on each database."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.config.settings import DaemonSettings
from connector.runtime.runtime import Runtime, open_runtime
from tests.conftest import REPO
from tests.webhooks.receiver import Receiver

CUR = REPO / "connector/demo_data/aws/cur-2026-10-00001.csv"
SECRET = "whsec-test-0123456789abcdef"
PAYMENTS_SECRET = "whsec-payments-only"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    up = Receiver().start()
    yield up
    up.stop()


@pytest.fixture
def payments_receiver() -> Iterator[Receiver]:
    up = Receiver().start()
    yield up
    up.stop()


def webhooks_yaml(books: Receiver, payments: Receiver, timeout: float = 2) -> str:
    """``books`` gets every event; ``payments`` only statement.paid."""
    return f"""
webhooks:
  - name: books
    url: {books.url}
    secret: {{secret_env: ACME_WEBHOOK_SECRET}}
    timeout_seconds: {timeout}
  - name: payments
    url: {payments.url}
    secret: {{secret_file: payments.secret}}
    events: [statement.paid]
"""


@pytest.fixture
def runtime(
    db_url: str, tmp_path: Path, receiver: Receiver, payments_receiver: Receiver, monkeypatch
) -> Iterator[Runtime]:
    tenants = tmp_path / "tenants"
    shutil.copytree(REPO / "config/tenants", tenants)
    acme = tenants / "acme.yaml"
    text = acme.read_text().replace("../../connector/demo_data/aws", str(CUR.parent))
    acme.write_text(text + webhooks_yaml(receiver, payments_receiver))
    (tenants / "payments.secret").write_text(PAYMENTS_SECRET + "\n")
    monkeypatch.setenv("ACME_WEBHOOK_SECRET", SECRET)
    rt = open_runtime(
        DaemonSettings(database_url=db_url, tenants_dir=tenants, output_dir=tmp_path / "out")
    )
    yield rt
    rt.db.dispose()
