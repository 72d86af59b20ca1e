"""Issue 19, defect 8: the review page sends Referrer-Policy, and HSTS over HTTPS."""

from __future__ import annotations

import httpx

from connector.api import create_app
from connector.daemon.api_server import ApiServer
from tests.api.conftest import TestClient


def test_the_review_page_sends_referrer_policy_and_over_https_hsts(runtime) -> None:
    with TestClient(create_app(runtime), base_url="https://testserver") as client:
        page = client.get("/review/login")
        redirect = client.get("/review", follow_redirects=False)
    for answer in (page, redirect):
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["strict-transport-security"].startswith("max-age=")
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_over_plain_http_there_is_no_hsts(runtime) -> None:
    with TestClient(create_app(runtime)) as client:
        page = client.get("/review/login")
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in page.headers


def test_hsts_when_a_trusted_proxy_says_the_request_came_over_https(runtime) -> None:
    server = ApiServer(runtime, "127.0.0.1", 0).start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        proxied = httpx.get(f"{base}/review/login", headers={"X-Forwarded-Proto": "https"})
        direct = httpx.get(f"{base}/review/login")
    finally:
        server.stop()
    assert proxied.headers["strict-transport-security"].startswith("max-age=")
    assert "strict-transport-security" not in direct.headers
    assert direct.headers["referrer-policy"] == "no-referrer"
