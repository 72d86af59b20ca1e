"""``connector api-keys create|list|revoke`` and ``connector serve``, through click."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.access.api_keys import KEY_PATTERN
from connector.cli.api import api_keys, serve
from connector.cli.support import State
from tests.api.conftest import write_tenants


@pytest.fixture
def config(tmp_path: Path) -> Path:
    tenants = write_tenants(tmp_path / "tenants")
    path = tmp_path / "connector.yaml"
    path.write_text(
        f"database_url: sqlite:///{tmp_path / 'c.db'}\ntenants_dir: {tenants}\n"
        f"output_dir: {tmp_path / 'out'}\napi:\n  host: 127.0.0.9\n  port: 8123\n"
    )
    return path


def invoke(config: Path, command, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(command, list(args), obj=State(config), catch_exceptions=False)


def test_create_prints_the_key_once_and_list_never_shows_it(config: Path) -> None:
    made = invoke(config, api_keys, "create", "--tenant", "acme", "--scope", "read",
                  "--label", "ERP sync")  # fmt: skip
    assert made.exit_code == 0, made.output
    key = made.stdout.strip()
    match = KEY_PATTERN.fullmatch(key)
    assert match is not None
    assert "cannot be shown again" in made.stderr
    listed = invoke(config, api_keys, "list", "--tenant", "acme", "--json")
    (row,) = json.loads(listed.stdout)
    assert row["id"] == match["prefix"] and row["scope"] == "read" and row["label"] == "ERP sync"
    assert row["revoked_at"] is None
    assert match["secret"] not in listed.stdout
    table = invoke(config, api_keys, "list", "--tenant", "acme")
    assert match["prefix"] in table.stdout and match["secret"] not in table.stdout


def test_a_customer_key_needs_a_known_customer(config: Path) -> None:
    missing = invoke(config, api_keys, "create", "--tenant", "acme", "--scope", "customer")
    assert missing.exit_code == 2 and "needs --customer" in missing.output
    unknown = invoke(config, api_keys, "create", "--tenant", "acme", "--scope", "customer",
                     "--customer", "9999")  # fmt: skip
    assert unknown.exit_code == 2 and "no customer '9999'" in unknown.output
    stray = invoke(config, api_keys, "create", "--tenant", "acme", "--scope", "operator",
                   "--customer", "1001")  # fmt: skip
    assert stray.exit_code == 2 and "only for customer keys" in stray.output
    made = invoke(config, api_keys, "create", "--tenant", "acme", "--scope", "customer",
                  "--customer", "1001", "--json")  # fmt: skip
    body = json.loads(made.stdout)
    assert (body["scope"], body["customer"]) == ("customer", "1001")
    bad_scope = invoke(config, api_keys, "create", "--tenant", "acme", "--scope", "admin")
    assert bad_scope.exit_code == 2


def test_revoke_marks_the_key_revoked_and_is_tenant_scoped(config: Path) -> None:
    key = invoke(config, api_keys, "create", "--tenant", "acme", "--scope", "operator").stdout
    key_id = key.strip().split("_")[1]
    other_tenant = invoke(config, api_keys, "revoke", "--tenant", "globex", key_id)
    assert other_tenant.exit_code == 5 and "has no API key" in other_tenant.output
    revoked = invoke(config, api_keys, "revoke", "--tenant", "acme", key_id)
    assert (
        revoked.exit_code == 0 and f"API key {key_id} of tenant acme is revoked" in revoked.output
    )
    (row,) = json.loads(invoke(config, api_keys, "list", "--tenant", "acme", "--json").stdout)
    assert row["revoked_at"] is not None
    again = invoke(config, api_keys, "revoke", "--tenant", "acme", key_id)
    assert again.exit_code == 0  # revoking twice changes nothing


def test_an_unknown_tenant_is_an_error_naming_the_known_ones(config: Path) -> None:
    answer = invoke(config, api_keys, "create", "--tenant", "nope", "--scope", "read")
    assert answer.exit_code == 5 and "tenants: acme, globex" in answer.output


def test_serve_runs_uvicorn_on_the_settings_address(config: Path, monkeypatch) -> None:
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    assert invoke(config, serve).exit_code == 0
    ((app, options),) = calls
    assert (options["host"], options["port"]) == ("127.0.0.9", 8123)
    assert app.title == "Billing Connector API"
    invoke(config, serve, "--host", "0.0.0.0", "--port", "9000")
    assert (calls[1][1]["host"], calls[1][1]["port"]) == ("0.0.0.0", 9000)
