"""Issue 19, defect 4: bodies, ids and URLs are bounded, the key is checked before the
body is read, 405 answers name the route's methods, an unknown customer is one answer."""

from __future__ import annotations

import asyncio
import socket

import pytest

from connector.api import create_app
from connector.daemon.api_server import ApiServer
from tests.api.conftest import auth, statement_ids

MIB = 1024 * 1024


def _send_to_app(app, headers: list[tuple[bytes, bytes]], chunks: int) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """POST a body of ``chunks`` 64 KiB chunks to /v1/statements/approve straight into the
    ASGI app; (the status answered, how many chunks the app pulled)."""
    pulled = 0
    answered: list[int] = []

    async def receive():  # type: ignore[no-untyped-def]
        nonlocal pulled
        if pulled >= chunks:
            await asyncio.sleep(3600)
        pulled += 1
        return {"type": "http.request", "body": b"x" * 65536, "more_body": pulled < chunks}

    async def send(message) -> None:  # type: ignore[no-untyped-def]
        if message["type"] == "http.response.start":
            answered.append(message["status"])

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/v1/statements/approve", "raw_path": b"/v1/statements/approve",
        "query_string": b"", "root_path": "", "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "headers": [(b"content-type", b"application/json"), *headers],
    }  # fmt: skip
    asyncio.run(asyncio.wait_for(app(scope, receive, send), 30))
    return answered[0], pulled


def test_an_unauthenticated_body_is_not_read_before_the_401(runtime) -> None:
    # 500 MB declared (8,000 chunks offered): the answer comes after reading none of it.
    declared = [(b"content-length", str(500 * 1000 * 1000).encode())]
    status, pulled = _send_to_app(create_app(runtime), declared, 8000)
    assert (status, pulled) == (401, 0)
    # Streamed, with no length declared: the same.
    status, pulled = _send_to_app(create_app(runtime), [], 8000)
    assert (status, pulled) == (401, 0)


def test_an_authenticated_body_over_the_limit_answers_413_without_reading_it_all(
    runtime, keys
) -> None:
    key = [(b"authorization", f"Bearer {keys.operator}".encode())]
    declared = [*key, (b"content-length", str(500 * 1000 * 1000).encode())]
    assert _send_to_app(create_app(runtime), declared, 8000) == (413, 0)
    # Streamed: counted, and refused just past 1 MiB (16 chunks of 64 KiB).
    status, pulled = _send_to_app(create_app(runtime), key, 8000)
    assert status == 413 and pulled == 17


def test_oversized_bodies_ids_and_urls_answer_briefly_and_never_echo_the_input(
    client, keys
) -> None:
    big = "x" * (2 * MIB)
    answer = client.post("/v1/statements/approve", json={"ids": [big]}, headers=auth(keys.operator))
    assert answer.status_code == 413 and "1048576 bytes" in answer.json()["detail"]
    streamed = client.post(
        "/v1/statements/approve",
        content=(b"x" * 65536 for _ in range(40)),
        headers={**auth(keys.operator), "content-type": "application/json"},
    )
    assert streamed.status_code == 413
    long_id = "y" * 5000
    for answer in (
        client.post("/v1/statements/approve", json={"ids": [long_id]}, headers=auth(keys.operator)),
        client.get(f"/v1/statements/{long_id}", headers=auth(keys.operator)),
        client.get(f"/v1/statements?customer={long_id}", headers=auth(keys.read)),
        client.get(f"/v1/statements/{'z' * 60_000}", headers=auth(keys.read)),
        client.get(f"/v1/statements?provider={'q' * 60_000}", headers=auth(keys.read)),
    ):
        assert answer.status_code in (413, 414, 422), answer.status_code
        assert len(answer.content) < 1000 and "yyyyyyyy" not in answer.text
    assert client.get(f"/v1/me?x={'q' * 60_000}", headers=auth(keys.read)).status_code == 414


def test_a_long_id_within_the_url_limit_is_quoted_short_in_a_404(client, keys) -> None:
    answer = client.get(
        "/v1/reports", params={"provider": "aws", "customer": "c" * 4000}, headers=auth(keys.read)
    )
    assert answer.status_code == 404 and len(answer.text) < 300


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/v1/statements/approve", "POST"),
        ("GET", "/v1/statements/approve", "POST"),
        ("DELETE", "/v1/statements/approve", "POST"),
        ("PUT", "/v1/statements/approve-all", "POST"),
        ("GET", "/v1/statements/approve-all", "POST"),
        ("PUT", "/v1/credits", "GET, POST"),
        ("PATCH", "/v1/statements/{id}", "DELETE, GET"),
        ("PUT", "/v1/statements/{id}", "DELETE, GET"),
    ],
)
def test_a_405_lists_the_methods_the_route_takes(client, keys, runtime, method, path, allow):  # type: ignore[no-untyped-def]
    path = path.replace("{id}", statement_ids(runtime, "acme")["1001"])
    answer = client.request(method, path, headers=auth(keys.operator))
    assert answer.status_code == 405, answer.text
    assert answer.headers["allow"] == allow
    assert answer.json()["detail"]


def test_an_unknown_customer_is_the_same_404_on_every_operation(client, keys) -> None:
    answers = [
        client.get("/v1/statements?customer=9999", headers=auth(keys.read)),
        client.get("/v1/credits?customer=9999", headers=auth(keys.read)),
        client.post(
            "/v1/credits",
            json={"customer": "9999", "amount": "5", "comment": "x"},
            headers=auth(keys.operator),
        ),
        client.get("/v1/reports?provider=aws&customer=9999", headers=auth(keys.read)),
    ]
    for answer in answers:
        assert answer.status_code == 404, answer.text
        assert answer.json() == {"detail": "tenant 'acme' has no customer '9999'", "errors": []}
    # To a customer key, another customer and an unknown one look alike: none of its own.
    for other in ("1002", "9999"):
        theirs = client.get(f"/v1/statements?customer={other}", headers=auth(keys.customer))
        assert theirs.json() == {"statements": [], "total": 0}


def test_the_openapi_document_states_every_limit_the_server_enforces(runtime) -> None:
    document = create_app(runtime).openapi()
    schemas = document["components"]["schemas"]
    assert schemas["ApproveRequest"]["properties"]["ids"]["items"]["maxLength"] == 64
    comment = schemas["CreditGrantRequest"]["properties"]["comment"]
    assert comment["minLength"] == 1 and comment["pattern"] == r"\S"
    assert schemas["CreditGrantRequest"]["properties"]["amount"]["pattern"]
    parameters = {p["name"]: p for p in document["paths"]["/v1/reports"]["get"]["parameters"]}
    assert "month-to-date" in parameters["range"]["schema"]["pattern"]
    download = document["paths"]["/v1/statements/{statement_id}/download/{fmt}"]["get"]
    currency = next(p for p in download["parameters"] if p["name"] == "currency")
    assert "needs a rate" in currency["description"]
    approve = document["paths"]["/v1/statements/approve"]["post"]["responses"]
    assert {"401", "413", "414", "422", "429"} <= set(approve)
    assert "Retry-After" in approve["429"]["headers"]
    assert "1 MiB" in document["info"]["description"]


def test_a_megabyte_query_string_is_answered_414_by_the_running_server(runtime) -> None:
    server = ApiServer(runtime, "127.0.0.1", 0).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(b"GET /v1/me?x=" + b"q" * MIB + b" HTTP/1.1\r\nHost: t\r\n\r\n")
            reply = sock.recv(4096)
    finally:
        server.stop()
    assert reply.startswith(b"HTTP/1.1 414"), reply[:100]
    assert b"qqqq" not in reply
