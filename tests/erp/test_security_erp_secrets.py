"""Issue 19, defect 6: an ERP error that echoes the request keeps no secret.

The simulated ERP answers with the token request it was sent (form body, JSON and
headers: client id and secret, refresh and access tokens). What is stored in
``outbox.last_error``, returned by ``push`` and printed by ``connector push`` and
``connector outbox list`` is masked; the daemon log masks with the same function.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner
from connector_erp_xero.plugin import XeroSink
from sqlalchemy import select

from connector.cli.main import main
from connector.contracts import PushResult, StatementDocument
from connector.daemon.logs import RedactingFilter
from connector.masking import MASK, mask_secrets
from connector.pipeline.publish.outbox import entries
from connector.pipeline.publish.publish import push
from connector.storage import models as m
from tests.erp.push_setup import TENANT, build_world, open_bulk_runtime
from tests.erp.xero_simulator import CLIENT_ID, CLIENT_SECRET

# What the stored token of build_world holds.
ACCESS, REFRESH = "access-0", "refresh-0"
ECHO = (
    "400 invalid_grant; request was: grant_type=refresh_token&refresh_token=refresh-0"
    "&client_id=client-abc&client_secret=secret-xyz; "
    '{"refresh_token": "refresh-0", "client_secret": "secret-xyz", "password": "pw-123456"} '
    "headers: Authorization: Bearer access-0, Authorization: Basic Y2xpZW50OnNlY3JldA==; "
    # A known secret in no secret-looking field: masked because it is known.
    "grant of secret-xyz for refresh-0 refused"
)
SECRETS = (CLIENT_ID, CLIENT_SECRET, ACCESS, REFRESH, "pw-123456", "Y2xpZW50OnNlY3JldA==")


def assert_masked(text: str) -> None:
    assert "invalid_grant" in text  # the ERP's reason survives
    assert MASK in text
    for secret in SECRETS:
        assert secret not in text, (secret, text)


class EchoingSink(XeroSink):
    """The Xero sink whose ERP refuses every invoice, echoing the request's secrets."""

    def preflight(self, documents: Sequence[StatementDocument]) -> list[str]:
        return []

    def push(self, documents: Sequence[StatementDocument]) -> list[PushResult]:
        return [PushResult(d.statement_id, None, False, ECHO, permanent=True) for d in documents]


@pytest.fixture
def world(tmp_path: Path) -> tuple[str, str]:
    return build_world(tmp_path, 2)


@pytest.fixture
def echoing_erp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(XeroSink, "preflight", EchoingSink.preflight)
    monkeypatch.setattr(XeroSink, "push", EchoingSink.push)


def test_an_erp_error_echoing_secrets_is_stored_and_returned_masked(
    tmp_path: Path, world: tuple[str, str], echoing_erp: None
) -> None:
    runtime = open_bulk_runtime(tmp_path, *world)
    try:
        outcomes = push(runtime, TENANT)
        assert [o.state for o in outcomes] == ["dead", "dead"]
        for outcome in outcomes:
            assert_masked(outcome.message)
        with runtime.db.transaction() as session:
            stored = session.scalars(select(m.OutboxEntry.last_error)).all()
        assert len(stored) == 2
        for message in stored:
            assert_masked(message)
        for row in entries(runtime, TENANT):
            assert_masked(row.last_error)
    finally:
        runtime.db.dispose()


def _config(tmp_path: Path, database_url: str, token_key: str) -> str:
    path = tmp_path / "connector.yaml"
    path.write_text(
        f"database_url: {database_url}\ntenants_dir: {tmp_path / 'tenants'}\n"
        f"output_dir: {tmp_path / 'out'}\ntoken_key: {token_key}\n"
    )
    return str(path)


def test_connector_push_and_outbox_list_print_an_echoing_erp_error_masked(
    tmp_path: Path, world: tuple[str, str], echoing_erp: None
) -> None:
    config = _config(tmp_path, *world)
    runner = CliRunner()
    pushed = runner.invoke(main, ["--config", config, "push", "--tenant", TENANT])
    assert pushed.exit_code != 0
    assert_masked(pushed.output)
    listed = runner.invoke(main, ["--config", config, "outbox", "list", "--tenant", TENANT,
                                  "--json"])  # fmt: skip
    assert listed.exit_code == 0, listed.output
    for row in json.loads(listed.output):
        assert_masked(row["last_error"])
    table = runner.invoke(
        main, ["--config", config, "outbox", "list", "--tenant", TENANT],
        env={"COLUMNS": "2000"},
    )  # fmt: skip
    assert table.exit_code == 0, table.output
    for secret in SECRETS:
        assert secret not in table.output


def test_a_message_stored_in_clear_before_the_fix_is_listed_masked(
    tmp_path: Path, world: tuple[str, str]
) -> None:
    runtime = open_bulk_runtime(tmp_path, *world)
    try:
        with runtime.db.transaction() as session:
            for entry in session.scalars(select(m.OutboxEntry)):
                entry.state, entry.last_error = "dead", ECHO
        for row in entries(runtime, TENANT):
            assert_masked(row.last_error)
    finally:
        runtime.db.dispose()


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("refresh_token=abcdef&grant_type=refresh_token", "grant_type=refresh_token"),
        ('{"access_token":"abcdef","expires_in":1800}', '"expires_in":1800'),
        ('{\\"client_secret\\": \\"abcdef\\"}', "client_secret"),
        ("Authorization: Bearer eyJhbGciOi.payload.sig", "Authorization: Bearer"),
        ("('Authorization', 'Bearer eyJhbGciOi.payload.sig')", "Authorization"),
        ("password: abcdef", "password"),
        ("https://user:abcdef@db.example/x", "https://user:"),
    ],
)
def test_secret_looking_fields_are_masked_in_json_form_and_header_forms(
    text: str, kept: str
) -> None:
    masked = mask_secrets(text)
    assert "abcdef" not in masked and "eyJhbGciOi" not in masked
    assert kept in masked and MASK in masked


def test_the_daemon_log_masks_with_the_same_function() -> None:
    redactor = RedactingFilter([CLIENT_SECRET, REFRESH, ACCESS])
    assert redactor.redact(ECHO) == mask_secrets(ECHO, [CLIENT_SECRET, REFRESH, ACCESS])
    assert_masked(redactor.redact(ECHO))
