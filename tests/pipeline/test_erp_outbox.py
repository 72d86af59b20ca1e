"""The ERP around the sink: checked before the first push, connected once, dead
entries sent again on request."""

from __future__ import annotations

from typing import ClassVar

import pytest
from cryptography.fernet import Fernet

from connector.contracts import PluginError, PushResult
from connector.pipeline.build.build import generate
from connector.pipeline.ingest.ingest import ingest
from connector.pipeline.publish import outbox
from connector.pipeline.publish.erp import connect, connect_url, token_store
from connector.pipeline.publish.publish import push
from connector.pipeline.review.approve import approve
from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER


class FakeErpSink:
    """An ERP that lacks item 'CLOUD' until told otherwise, refuses 1003 as invalid,
    and connects through a pretend OAuth2 sign-in."""

    name: ClassVar[str] = "fake-erp"
    settings_model: ClassVar[type | None] = None
    items: ClassVar[set[str]] = set()
    pushed: ClassVar[list[str]] = []

    def __init__(self, settings, context) -> None:
        self.context = context

    def preflight(self, documents):
        if "DOWN" in self.items:
            raise PluginError("the ERP answered HTTP 503 Service Unavailable")
        return [] if "CLOUD" in self.items else ["item 'CLOUD' (erp.mappings.item_code) is missing"]

    def push(self, documents):
        self.pushed.extend(d.number for d in documents)
        return [
            PushResult(d.statement_id, None, False, "Contact is archived", permanent=True)
            if d.customer_id == "1003"
            else PushResult(d.statement_id, f"inv-{d.number}", True)
            for d in documents
        ]

    @classmethod
    def token_key(cls, settings) -> str:
        return f"fake:{settings['organisation']}"

    @classmethod
    def authorization_url(cls, settings, state: str) -> str:
        return f"https://login.example/authorize?client_id={settings['client_id']}&state={state}"

    @classmethod
    def exchange_code(cls, settings, redirect_url: str, state: str) -> dict:
        assert f"state={state}" in redirect_url
        return {"access_token": "at", "refresh_token": "rt-" + redirect_url.rsplit("=", 1)[-1]}


@pytest.fixture
def fake_erp(runtime, monkeypatch):
    FakeErpSink.items, FakeErpSink.pushed = set(), []
    runtime.plugins.sinks.add(FakeErpSink)
    erp = runtime.tenants["acme"].erp
    organisation = {"secret_env": "ORG"}
    erp.sink, erp.settings = "fake-erp", {"client_id": "app-1", "organisation": organisation}
    monkeypatch.setenv("ORG", "org-42")
    ingest(runtime, "acme", "aws")
    generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    approve(runtime, "acme", None, actor="test")
    return runtime


def test_the_first_push_waits_for_every_missing_mapping_and_sends_nothing(fake_erp) -> None:
    outcomes = push(fake_erp, "acme")
    assert {o.state for o in outcomes} == {"blocked"} and len(outcomes) == 3
    assert "item 'CLOUD' (erp.mappings.item_code) is missing" in outcomes[0].message
    assert FakeErpSink.pushed == []
    assert {r.state for r in outbox.entries(fake_erp, "acme")} == {"pending"}
    assert {r.attempts for r in outbox.entries(fake_erp, "acme")} == {0}

    FakeErpSink.items.add("CLOUD")
    states = sorted(o.state for o in push(fake_erp, "acme"))
    assert states == ["dead", "delivered", "delivered"]


def test_a_dead_entry_is_sent_again_on_request_and_a_delivered_one_never(fake_erp) -> None:
    FakeErpSink.items.add("CLOUD")
    push(fake_erp, "acme")
    (dead,) = outbox.entries(fake_erp, "acme", ["dead"])
    assert dead.last_error == "Contact is archived" and dead.customer_id == "1003"
    delivered = outbox.entries(fake_erp, "acme", ["delivered"])[0]
    with pytest.raises(outbox.OutboxError, match="already delivered; a retry would send them"):
        outbox.retry(fake_erp, "acme", [delivered.number], actor="test")
    with pytest.raises(outbox.OutboxError, match="no outbox entry for ACME-99999"):
        outbox.retry(fake_erp, "acme", ["ACME-99999"], actor="test")
    assert outbox.retry(fake_erp, "acme", [], actor="test") == [dead.statement_id]
    FakeErpSink.pushed.clear()
    push(fake_erp, "acme")
    assert FakeErpSink.pushed == [dead.number]  # the delivered two are not sent again


def test_connecting_stores_the_token_encrypted_under_the_sinks_key(fake_erp) -> None:
    fake_erp.settings.token_key = Fernet.generate_key().decode()
    url = connect_url(fake_erp, "acme", "st4te")
    assert url == "https://login.example/authorize?client_id=app-1&state=st4te"
    key = connect(fake_erp, "acme", "https://app.example/cb?state=st4te&code=c0de", "st4te")
    assert key == "fake:org-42"  # the organisation's secret reference resolved
    assert token_store(fake_erp, "acme").load(key) == {"access_token": "at",
                                                      "refresh_token": "rt-c0de"}  # fmt: skip


def test_an_erp_down_during_the_first_check_fails_the_entries_for_a_retry(fake_erp) -> None:
    """Not left in flight for the 10-minute lease: failed, with the reason and a time."""
    FakeErpSink.items.add("DOWN")
    outcomes = push(fake_erp, "acme")
    assert {o.state for o in outcomes} == {"failed"}
    rows = outbox.entries(fake_erp, "acme")
    assert {r.state for r in rows} == {"failed"} and all(r.next_attempt_at for r in rows)
    assert "HTTP 503 Service Unavailable" in rows[0].last_error
    assert FakeErpSink.pushed == []
