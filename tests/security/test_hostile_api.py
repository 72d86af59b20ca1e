"""The billing API with hostile ids, query values and JSON fields, on an operator key."""

from __future__ import annotations

import warnings
from urllib.parse import quote

import pytest

from connector.config.settings import DaemonSettings
from connector.plugins import load_plugins
from connector.runtime.runtime import open_runtime
from tests.api.conftest import auth, build_october, statement_ids, write_tenants
from tests.security.corpus import AMOUNTS, MARKER, PATHS, TEXT, ids
from tests.security.harness import STATS

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """(client, operator key, a statement id) for acme with October's Drafts."""
    from connector.access.api_keys import create_key
    from connector.api import create_app

    root = tmp_path_factory.mktemp("api")
    settings = DaemonSettings(database_url=f"sqlite:///{root / 'api.db'}",
                              tenants_dir=write_tenants(root / "tenants"),
                              output_dir=root / "out")  # fmt: skip
    runtime = open_runtime(settings, load_plugins())
    build_october(runtime, "acme")
    key = create_key(runtime, "acme", "operator", label="ops").token
    with TestClient(create_app(runtime)) as client:  # server exceptions propagate
        yield client, key, statement_ids(runtime, "acme")["1001"]
    runtime.db.dispose()


def _request(api, method: str, path: str, **kwargs):  # type: ignore[no-untyped-def]
    client, key, _ = api
    STATS["runs"] += 1
    MARKER.unlink(missing_ok=True)
    try:
        response = client.request(method, path, headers=auth(key), **kwargs)
    except Exception:
        STATS["tracebacks"] += 1
        raise
    assert response.status_code < 500, response.text[-2000:]
    assert "Traceback" not in response.text and "uid=" not in response.text
    assert not MARKER.exists(), "a template injection ran code"
    return response


def _refused(response) -> None:  # type: ignore[no-untyped-def]
    assert 400 <= response.status_code < 500, (response.status_code, response.text[-1000:])
    assert response.text.strip()


def _empty_or_refused(response) -> None:  # type: ignore[no-untyped-def]
    if response.status_code == 200:
        assert response.json()["statements"] == []
    else:
        _refused(response)


HOSTILE = TEXT


@pytest.mark.parametrize(("name", "value"), HOSTILE, ids=ids(HOSTILE))
def test_api_refuses_a_hostile_statement_id(api, name, value):
    _refused(_request(api, "GET", f"/v1/statements/{quote(value, safe='')}"))


@pytest.mark.parametrize(("name", "value"), HOSTILE, ids=ids(HOSTILE))
def test_api_refuses_hostile_query_values(api, name, value):
    _refused(_request(api, "GET", "/v1/statements", params={"customer": value}))
    _empty_or_refused(_request(api, "GET", "/v1/statements", params={"provider": value}))
    _refused(_request(api, "GET", "/v1/statements", params={"period": value}))


@pytest.mark.parametrize(("name", "value"), HOSTILE, ids=ids(HOSTILE))
def test_api_refuses_hostile_json_ids(api, name, value):
    _refused(_request(api, "POST", "/v1/statements/approve", json={"ids": [value]}))
    body = {"customer": value, "amount": "5", "comment": "x"}
    _refused(_request(api, "POST", "/v1/credits", json=body))


@pytest.mark.parametrize(("name", "value"), HOSTILE, ids=ids(HOSTILE))
def test_api_stores_or_refuses_a_hostile_credit_comment(api, name, value):
    body = {"customer": "1001", "amount": "0.01", "comment": value}
    response = _request(api, "POST", "/v1/credits", json=body)
    assert response.status_code in (201, 422), response.text[-1000:]


@pytest.mark.parametrize(("name", "value"), AMOUNTS, ids=ids(AMOUNTS))
def test_api_refuses_hostile_credit_amounts(api, name, value):
    body = {"customer": "1001", "amount": value, "comment": "x"}
    _refused(_request(api, "POST", "/v1/credits", json=body))


@pytest.mark.parametrize(("name", "value"), PATHS, ids=ids(PATHS))
def test_api_refuses_a_hostile_download_format(api, name, value):
    _, _, statement = api
    _refused(_request(api, "GET", f"/v1/statements/{statement}/download/{quote(value, safe='')}"))
