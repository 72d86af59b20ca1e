"""Every route of the app with every role: who gets in, who is sent to sign in, who not.

Roles: anonymous; each user role signed in by the browser session (operator, reviewer,
read-only, customer); each API key scope (read, operator, customer) sent as a Bearer
header. The table below is the access policy written out: a route added to the app
without a row here fails :func:`test_every_route_of_the_app_is_in_the_table`.

State-changing requests are sent so that a caller who gets past the role check is
stopped right after it (an unknown id: 404, an invalid body: 422, a missing CSRF or
sign-in token: 403) and nothing changes between roles.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from argon2 import PasswordHasher
from starlette.routing import Mount

from connector.access import users
from connector.access.api_keys import create_key
from connector.access.users import add_user
from connector.api import create_app
from connector.api.guard import Limits
from connector.pipeline.review.approve import approve
from tests.api.conftest import TestClient, statement_ids

PASSWORD = "correct horse battery"
ROLES = ("anonymous", "operator", "reviewer", "read-only", "customer",
         "key:read", "key:operator", "key:customer")  # fmt: skip
USERS = ("operator", "reviewer", "read-only", "customer")
KEYS = ("key:read", "key:operator", "key:customer")


def every(status: int, **other: int) -> dict[str, int]:
    """``status`` for every role, but ``other`` (role names with ``_`` for ``-`` and
    ``key_`` for ``key:``)."""
    found = dict.fromkeys(ROLES, status)
    for name, value in other.items():
        found[name.replace("key_", "key:").replace("_", "-")] = value
    assert set(found) == set(ROLES), other
    return found


def api(keys: dict[str, int]) -> dict[str, int]:
    """A /v1 route: no key is 401, whoever is signed in (a session is no key)."""
    return {**dict.fromkeys(("anonymous", *USERS), 401), **keys}


def page(allowed: tuple[str, ...], ok: int = 200, refused: int = 403) -> dict[str, int]:
    """A browser page: without a session (a key is not one) to sign-in (303)."""
    found = {**dict.fromkeys(("anonymous", *KEYS), 303), **dict.fromkeys(USERS, refused)}
    return {**found, **dict.fromkeys(allowed, ok)}


STAFF_KEYS = {"key:read": 200, "key:operator": 200, "key:customer": 403}
ANY_KEY = dict.fromkeys(KEYS, 200)
STAFF = ("operator", "reviewer", "read-only")


def operator_key(status: int) -> dict[str, int]:
    return api({"key:read": 403, "key:operator": status, "key:customer": 403})


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # {open} is customer 1001's Open statement
    expected: dict[str, int]
    json: object = None
    data: dict[str, str] = field(default_factory=dict)


# (method, route path) -> the request made and the status each role gets.
TABLE: dict[tuple[str, str], Call] = {
    ("GET", "/openapi.json"): Call("GET", "/openapi.json", every(200)),
    ("GET", "/health"): Call("GET", "/health", every(200)),
    # Swagger UI over the public document, its files served from here.
    ("GET", "/docs"): Call("GET", "/docs", every(200)),
    ("GET", "/docs/oauth2-redirect"): Call("GET", "/docs/oauth2-redirect", every(200)),
    ("MOUNT", "/docs/static"): Call("GET", "/docs/static/swagger-ui.css", every(200)),
    ("GET", "/v1/statements"): Call("GET", "/v1/statements", api(ANY_KEY)),
    ("GET", "/v1/statements/{statement_id}"): Call("GET", "/v1/statements/{open}", api(ANY_KEY)),
    ("GET", "/v1/statements/{statement_id}/download/{fmt}"): Call(
        "GET", "/v1/statements/{open}/download/csv", api(ANY_KEY)
    ),
    ("POST", "/v1/statements/approve"): Call(
        "POST", "/v1/statements/approve", operator_key(422), json={}
    ),
    ("POST", "/v1/statements/approve-all"): Call(
        "POST", "/v1/statements/approve-all", operator_key(422), json=[1]
    ),
    ("POST", "/v1/statements/{statement_id}/approve"): Call(
        "POST", "/v1/statements/no-such/approve", operator_key(404)
    ),
    ("DELETE", "/v1/statements/{statement_id}"): Call(
        "DELETE", "/v1/statements/no-such", operator_key(404)
    ),
    ("POST", "/v1/statements/{statement_id}/status"): Call(
        "POST", "/v1/statements/no-such/status", operator_key(422), json={}
    ),
    ("GET", "/v1/credits"): Call("GET", "/v1/credits", api(STAFF_KEYS)),
    ("POST", "/v1/credits"): Call("POST", "/v1/credits", operator_key(422), json={}),
    ("POST", "/v1/periods/close"): Call("POST", "/v1/periods/close", operator_key(422), json={}),
    ("GET", "/v1/reconciliation"): Call(
        "GET", "/v1/reconciliation?provider=aws&period=2026-10", api(STAFF_KEYS)
    ),
    ("GET", "/v1/reports"): Call("GET", "/v1/reports?provider=aws&range=2026-10", api(STAFF_KEYS)),
    ("GET", "/v1/plugins"): Call("GET", "/v1/plugins", api(STAFF_KEYS)),
    ("GET", "/v1/me"): Call("GET", "/v1/me", api(ANY_KEY)),
    ("GET", "/v1/audit"): Call("GET", "/v1/audit", api(STAFF_KEYS)),
    # Sign-in forms: open to all; posted without the form's token, refused.
    ("GET", "/login"): Call("GET", "/login", every(200)),
    ("POST", "/login"): Call("POST", "/login", every(403), data={"name": "x", "password": "y"}),
    ("GET", "/review/login"): Call("GET", "/review/login", every(200)),
    ("POST", "/review/login"): Call("POST", "/review/login", every(403), data={"key": "x"}),
    # Logout without the session's CSRF token: refused for a session, nothing to end else.
    ("POST", "/logout"): Call("POST", "/logout", every(200, **dict.fromkeys(USERS, 403))),
    ("GET", "/review"): Call("GET", "/review", page(("operator", "reviewer"))),
    ("GET", "/review/statements/{statement_id}"): Call(
        "GET", "/review/statements/{open}", page(("operator", "reviewer"))
    ),
    ("GET", "/review/statements/{statement_id}/document"): Call(
        "GET", "/review/statements/{open}/document", page(("operator", "reviewer"))
    ),
    # Review forms: the guard sends a request without a session to the review login;
    # a role that may review, without the CSRF token, is refused like the others.
    ("POST", "/review/action"): Call(
        "POST", "/review/action", page((), refused=403), data={"action": "approve"}
    ),
    ("POST", "/review/finish"): Call("POST", "/review/finish", page((), refused=403)),
    # The reports screen shows cost and margin: the reseller's staff only.
    ("GET", "/reports"): Call("GET", "/reports?provider=aws", page(STAFF)),
    ("GET", "/reports/report.csv"): Call("GET", "/reports/report.csv?provider=aws", page(STAFF)),
    # The portal: only a customer user; to anyone else signed in it does not exist.
    ("GET", "/portal"): Call("GET", "/portal", page(("customer",), refused=404)),
    ("GET", "/portal/statements/{statement_id}"): Call(
        "GET", "/portal/statements/{open}", page(("customer",), refused=404)
    ),
    ("GET", "/portal/statements/{statement_id}/{fmt}"): Call(
        "GET", "/portal/statements/{open}/pdf", page(("customer",), refused=404)
    ),
    ("MOUNT", "/review/static"): Call("GET", "/review/static/review.css", every(200)),
}


def app_routes(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(method, path) of every route the app answers, HEAD aside."""
    found = set()

    def walk(routes) -> None:  # type: ignore[no-untyped-def]
        for route in routes:
            if hasattr(route, "original_router"):  # an included router (FastAPI >= 0.16x)
                walk(route.original_router.routes)
            elif isinstance(route, Mount):
                found.add(("MOUNT", route.path))
            else:
                found.update((method, route.path) for method in route.methods - {"HEAD"})

    walk(app.routes)
    return found


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def app(sqlite_runtime):  # type: ignore[no-untyped-def]
    return create_app(sqlite_runtime, Limits(failures=10_000))


def test_every_route_of_the_app_is_in_the_table(app) -> None:
    routes = app_routes(app)
    assert routes - set(TABLE) == set(), "routes without a row in the role table"
    assert set(TABLE) - routes == set(), "rows for routes the app no longer has"


def _client_as(app, runtime, role: str):  # type: ignore[no-untyped-def]
    client = TestClient(app)
    if role in USERS:
        client.get("/login")
        token = client.cookies.get("bc_review_login", path="/login")
        form = {"name": f"u-{role}", "password": PASSWORD, "login_token": token}
        answer = client.post("/login", data=form, follow_redirects=False)
        assert answer.status_code == 303, answer.text
    elif role in KEYS:
        scope = role.removeprefix("key:")
        key = create_key(runtime, "acme", scope, "1001" if scope == "customer" else None)
        client.headers["Authorization"] = f"Bearer {key.token}"
    return client


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_expected_status_on_every_route(app, sqlite_runtime, role) -> None:
    ids = statement_ids(sqlite_runtime, "acme")
    approve(sqlite_runtime, "acme", [ids["1001"]], "test")
    for name in USERS:
        add_user(sqlite_runtime, "acme", f"u-{name}", name, PASSWORD,
                 "1001" if name == "customer" else None)  # fmt: skip
    wrong = []
    with _client_as(app, sqlite_runtime, role) as client:
        for (method, route), call in sorted(TABLE.items()):
            path = call.path.format(open=ids["1001"])
            answer = client.request(call.method, path, json=call.json, data=call.data or None,
                                    follow_redirects=False)  # fmt: skip
            if answer.status_code != call.expected[role]:
                wrong.append(f"{method} {route}: {answer.status_code}, "
                             f"expected {call.expected[role]}")  # fmt: skip
    assert wrong == []
