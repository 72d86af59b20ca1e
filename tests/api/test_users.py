"""People sign in: argon2 password hashes, /login, throttling, logout, roles on pages."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher

from connector.access import users
from connector.access.users import (
    UserError,
    add_user,
    disable_user,
    hash_password,
    password_matches,
    sign_in,
)
from connector.api.sessions import COOKIE
from connector.runtime.runtime import Runtime

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its lowest cost: the tests check the scheme, not its cost."""
    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def make_users(runtime: Runtime) -> None:
    for name, role, customer in (
        ("olivia", "operator", None),
        ("rita", "reviewer", None),
        ("reed", "read-only", None),
        ("carla", "customer", "1001"),
    ):
        add_user(runtime, "acme", name, role, PASSWORD, customer)


def sign_in_form(client, name: str, password: str, next_page: str = ""):  # type: ignore[no-untyped-def]
    form = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)[1]
    data = {"name": name, "password": password, "login_token": token, "next": next_page}
    return client.post("/login", data=data, follow_redirects=False)


def test_a_password_is_stored_as_an_argon2id_hash_that_verifies_only_itself() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert password_matches(stored, PASSWORD)
    assert not password_matches(stored, PASSWORD + "x")
    assert not password_matches("not a hash", PASSWORD)


def test_sign_in_refuses_a_wrong_password_an_unknown_name_and_a_disabled_user(runtime) -> None:
    make_users(runtime)
    who = sign_in(runtime, "carla", PASSWORD)
    assert (who.role, who.tenant, who.customer_id) == ("customer", "acme", "1001")
    assert sign_in(runtime, "carla", "wrong password!") is None
    assert sign_in(runtime, "nobody", PASSWORD) is None
    disable_user(runtime, "acme", "carla")
    assert sign_in(runtime, "carla", PASSWORD) is None


def test_a_customer_user_needs_a_customer_of_its_tenant_and_a_long_password(runtime) -> None:
    with pytest.raises(UserError, match="needs --customer"):
        add_user(runtime, "acme", "c1", "customer", PASSWORD)
    with pytest.raises(UserError, match="no customer '9999'"):
        add_user(runtime, "acme", "c1", "customer", PASSWORD, "9999")
    with pytest.raises(UserError, match="at least 12"):
        add_user(runtime, "acme", "c1", "customer", "short", "1001")
    with pytest.raises(UserError, match="role 'admin' is not one of"):
        add_user(runtime, "acme", "c1", "admin", PASSWORD)


def test_signing_in_sets_a_session_cookie_for_every_page_and_lands_on_the_roles_home(
    client, runtime
) -> None:
    make_users(runtime)
    answer = sign_in_form(client, "carla", PASSWORD)
    assert answer.status_code == 303 and answer.headers["location"] == "/portal"
    cookie = answer.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/;" in cookie
    client.cookies.clear()
    answer = sign_in_form(client, "rita", PASSWORD, next_page="//evil.example/x")
    assert answer.headers["location"] == "/review"  # never a redirect to another site


def test_a_reviewer_user_opens_the_review_page_and_a_customer_user_cannot(client, runtime) -> None:
    make_users(runtime)
    sign_in_form(client, "rita", PASSWORD)
    assert client.get("/review").status_code == 200
    client.cookies.clear()
    sign_in_form(client, "carla", PASSWORD)
    assert client.get("/review", follow_redirects=False).status_code == 403


def test_a_disabled_users_session_ends_at_its_next_request(client, runtime) -> None:
    make_users(runtime)
    sign_in_form(client, "rita", PASSWORD)
    disable_user(runtime, "acme", "rita")
    answer = client.get("/review", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/review/login")


def test_failed_sign_ins_are_throttled_per_user_name(runtime) -> None:
    from connector.api import create_app
    from connector.api.guard import Limits
    from tests.api.conftest import TestClient

    make_users(runtime)
    with TestClient(create_app(runtime, Limits(failures=3, window=3600))) as client:
        for _ in range(3):
            assert sign_in_form(client, "rita", "wrong password!").status_code == 401
        answer = sign_in_form(client, "rita", PASSWORD)  # right, but locked out now
        assert answer.status_code == 429 and int(answer.headers["retry-after"]) > 0
        assert COOKIE not in client.cookies


def test_a_sign_in_without_the_forms_token_is_refused(client, runtime) -> None:
    make_users(runtime)
    client.get("/login")
    data = {"name": "rita", "password": PASSWORD, "login_token": "forged"}
    answer = client.post("/login", data=data, follow_redirects=False)
    assert answer.status_code == 403 and COOKIE not in client.cookies


def test_logout_ends_the_session_and_needs_its_csrf_token(client, runtime) -> None:
    make_users(runtime)
    sign_in_form(client, "carla", PASSWORD)
    page = client.get("/portal")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 403
    assert client.get("/portal", follow_redirects=False).status_code == 200
    answer = client.post("/logout", data={"csrf": csrf})
    assert answer.status_code == 200 and "You are logged out" in answer.text
    left = client.get("/portal", follow_redirects=False)
    assert left.status_code == 303 and left.headers["location"] == "/login?next=/portal"
