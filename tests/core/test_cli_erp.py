"""``connector erp`` and ``connector outbox`` on the example tenant (CSV sink)."""

from __future__ import annotations

import json

from cryptography.fernet import Fernet

from tests.core.conftest import build_october, run


def test_new_key_prints_a_key_tokens_can_be_encrypted_with() -> None:
    result = run("erp", "new-key")
    assert result.exit_code == 0
    Fernet(result.output.strip().encode())  # raises for anything but a Fernet key


def test_outbox_lists_approved_statements_and_refuses_unknown_retries(example_config) -> None:
    build_october(example_config)
    approved = run("--config", example_config, "statements", "approve", "--tenant", "acme",
                   "--all")  # fmt: skip
    assert approved.exit_code == 0, approved.output
    listed = run("--config", example_config, "outbox", "list", "--tenant", "acme", "--json")
    rows = json.loads(listed.output)
    assert [(r["number"], r["state"], r["sink"]) for r in rows] == [
        ("ACME-01001", "pending", "csv"), ("ACME-01002", "pending", "csv"),
        ("ACME-01003", "pending", "csv"),
    ]  # fmt: skip
    retried = run("--config", example_config, "outbox", "retry", "--tenant", "acme", "ACME-9")
    assert retried.exit_code == 5
    assert "tenant 'acme' has no outbox entry for ACME-9" in retried.output


def test_a_sink_without_oauth_needs_no_connection_and_checks_clean(example_config) -> None:
    connected = run("--config", example_config, "erp", "connect", "--tenant", "acme",
                    "--redirect-url", "https://x/cb?code=1")  # fmt: skip
    assert connected.exit_code == 6
    assert "sink 'csv' of tenant 'acme' needs no connection" in connected.output
    checked = run("--config", example_config, "erp", "check", "--tenant", "acme")
    assert checked.exit_code == 0
    assert "every mapping the statements need is in the ERP" in checked.output
