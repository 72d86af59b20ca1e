"""Access lines: one per request, as fields, with the key's id and never the key; the
review page's approvals logged with the session's key; ``serve`` logging as the
settings say, instead of uvicorn's own access log."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.cli.api import serve
from connector.cli.support import State
from tests.api.conftest import TestClient, auth, statement_ids, write_tenants
from tests.api.test_review_page import csrf_of, login

ACCESS = "connector.api.access"


def key_id(key: str) -> str:
    return key.split("_")[1]


def test_each_request_is_one_json_access_line_with_its_fields_and_never_the_key(
    client, keys, json_log
) -> None:
    listed = client.get(
        "/v1/statements", params={"customer": "1001", "token": "s3cr3t-in-query"},
        headers=auth(keys.operator),
    )  # fmt: skip
    assert listed.status_code == 200
    wrong = keys.read[:-1] + ("1" if keys.read.endswith("0") else "0")
    assert client.get("/v1/me", headers=auth(wrong)).status_code == 401

    first, second = json_log.lines(ACCESS)  # one line each, nothing doubled
    assert {k: first[k] for k in ("method", "path", "status", "key_id", "client", "tenant")} == {
        "method": "GET",
        "path": "/v1/statements",  # the query string left out
        "status": 200,
        "key_id": key_id(keys.operator),
        "client": "testclient",
        "tenant": "acme",
    }
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    # Refused before any key was verified: no key id, and not the one presented.
    assert (second["path"], second["status"], second["key_id"]) == ("/v1/me", 401, None)
    for secret in (keys.operator, keys.operator.split("_")[2], wrong.split("_")[2]):
        assert secret not in json_log.text
    assert "s3cr3t-in-query" not in json_log.text


def test_a_review_page_approval_is_logged_and_audited_with_the_sessions_key(
    client, keys, runtime, json_log
) -> None:
    ident = statement_ids(runtime, "acme")["1001"]
    page = login(client, keys.operator)
    done = client.post(
        "/review/action", data={"csrf": csrf_of(page.text), "action": "approve", "ids": [ident]}
    )
    assert "Approved 1 statement(s): ACME-01001." in done.text
    actor = f"api-key:{key_id(keys.operator)}"

    action_line = next(e for e in json_log.lines(ACCESS) if e["path"] == "/review/action")
    assert (action_line["method"], action_line["status"]) == ("POST", 303)
    assert action_line["key_id"] == key_id(keys.operator)
    (audited,) = [e for e in json_log.lines("connector.audit") if e["action"] != "api-key.create"]
    assert (audited["action"], audited["actor"], audited["subject"]) == (
        "statement.approve", actor, ident,
    )  # fmt: skip
    assert audited["tenant"] == "acme" and audited["number"] == "ACME-01001"
    assert actor in audited["message"]  # the key id is kept readable, not masked

    trail = client.get(
        "/v1/audit", params={"action": "statement.approve"}, headers=auth(keys.read)
    ).json()
    assert [(e["actor"], e["subject"], e["detail"]) for e in trail["entries"]] == [
        (actor, ident, {"number": "ACME-01001"})
    ]
    assert keys.operator.split("_")[2] not in json_log.text


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_serve_logs_as_the_settings_say_in_place_of_uvicorns_access_log(
    tmp_path: Path, monkeypatch, log_format: str
) -> None:
    import uvicorn

    tenants = write_tenants(tmp_path / "tenants")
    config = tmp_path / "connector.yaml"
    config.write_text(
        f"database_url: sqlite:///{tmp_path / 'c.db'}\ntenants_dir: {tenants}\n"
        f"output_dir: {tmp_path / 'out'}\nlog_format: {log_format}\n"
    )
    served = []

    def fake_run(app, **options):  # type: ignore[no-untyped-def]
        served.append(options)
        with TestClient(app) as test_client:
            test_client.get("/health?probe=1")

    monkeypatch.setattr(uvicorn, "run", fake_run)
    result = CliRunner().invoke(serve, [], obj=State(config), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    ((options),) = served
    assert options["access_log"] is False and options["log_config"] is None
    # (the test client's own request line left out)
    logged = [line for line in result.stderr.splitlines() if ACCESS in line]
    if log_format == "json":
        (line,) = (json.loads(text) for text in logged)
        assert (line["method"], line["path"], line["status"]) == ("GET", "/health", 200)
        assert line["key_id"] is None and line["level"] == "INFO"
    else:
        (line,) = logged
        assert re.search(r'INFO connector\.api\.access: testclient "GET /health" 200 ', line)
        assert not line.startswith("{")


def test_the_daemons_api_server_leaves_access_lines_to_the_app() -> None:
    from connector.daemon.api_server import ApiServer

    config = ApiServer(None, "127.0.0.1", 0)._server.config  # type: ignore[arg-type]
    assert config.access_log is False and config.log_config is None
