"""Webhook endpoints in the tenant file: https only (http to this machine), secrets by
reference, known event types, unique names; each problem named with its line."""

from __future__ import annotations

import pytest

from connector.config import ConfigError, load_tenant
from tests.config.test_tenant_config import BASE, write


def problems(tmp_path, webhooks: str) -> list[str]:
    path = write(tmp_path, BASE + "webhooks:\n" + webhooks)
    with pytest.raises(ConfigError) as caught:
        load_tenant(path)
    return [f"{i.line}: {i.key}: {i.message}" for i in caught.value.issues]


TWO_ENDPOINTS = """webhooks:
  - name: books
    url: https://hooks.example/connector
    secret: {secret_env: HOOK_SECRET}
  - name: local
    url: http://127.0.0.1:8080/hooks
    secret: {secret_file: hook.secret}
    events: [statement.paid, delivery.dead]
"""


def test_an_endpoint_loads_with_every_event_by_default(tmp_path) -> None:
    path = write(tmp_path, BASE + TWO_ENDPOINTS)
    books, local = load_tenant(path).webhooks
    assert books.events is None and books.wants("statement.drafted")
    assert local.wants("delivery.dead") and not local.wants("statement.drafted")
    assert books.timeout_seconds == 10


def test_plain_http_is_refused_except_to_this_machine(tmp_path) -> None:
    (found,) = problems(tmp_path, """  - name: books
    url: http://hooks.example/connector
    secret: {secret_env: HOOK_SECRET}
""")  # fmt: skip
    assert found.startswith("21: webhooks[0].url: ")
    assert "sent over https only (http is allowed to localhost, 127.0.0.1 and ::1" in found


def test_a_password_in_the_address_an_inline_secret_and_an_unknown_event_are_refused(
    tmp_path,
) -> None:
    found = problems(tmp_path, """  - name: books
    url: https://user:hunter2@hooks.example/connector
    secret: hunter2
    events: [statement.paid, invoice.created]
""")  # fmt: skip
    assert len(found) == 3
    assert found[0].startswith("21: webhooks[0].url: ") and "secret inline" in found[0]
    assert found[1].startswith("22: webhooks[0].secret: ") and "{secret_env: NAME}" in found[1]
    assert found[2].startswith("23: webhooks[0].events: ")
    assert "unknown event type 'invoice.created': choose from statement.drafted," in found[2]


def test_two_endpoints_of_one_name_are_refused(tmp_path) -> None:
    (found,) = problems(tmp_path, """  - name: books
    url: https://a.example/hooks
    secret: {secret_env: A}
  - name: books
    url: https://b.example/hooks
    secret: {secret_env: B}
""")  # fmt: skip
    assert found == "23: webhooks[1].name: webhook name 'books' is already used by webhooks[0]"


def test_an_endpoints_secret_is_masked_in_logs_like_the_others(tmp_path, monkeypatch) -> None:
    from connector.masking import tenant_secrets

    monkeypatch.setenv("HOOK_SECRET", "whsec-env-value")
    (tmp_path / "hook.secret").write_text("whsec-file-value\n")
    path = write(tmp_path, BASE + TWO_ENDPOINTS)
    found = tenant_secrets(load_tenant(path))
    assert {"whsec-env-value", "whsec-file-value"} <= set(found)
