"""``/docs``: Swagger UI over the OpenAPI document, every file of it served by this
server from the fastapi-offline package; no CDN, no key needed (as /openapi.json)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest


def test_the_docs_page_loads_everything_from_this_server(client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert not re.search(r"(https?:)?//", page.text), "an address outside this server"
    linked = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert {"/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-ui.css"} <= set(linked)
    kinds = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
    for path in linked:
        assert path.startswith("/docs/static/")
        asset = client.get(path)
        assert asset.status_code == 200 and len(asset.content) > 1000, path
        assert asset.headers["content-type"].startswith(kinds[path[path.rindex(".") :]])
    assert "SwaggerUIBundle" in client.get("/docs/static/swagger-ui-bundle.js").text
    assert "url: '/openapi.json'" in page.text
    assert client.get("/openapi.json").status_code == 200


def test_the_docs_page_is_not_in_the_document_it_shows(client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/docs")]


def _inline_script_hashes(html: str) -> set[str]:
    scripts = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    assert scripts, "the page starts Swagger UI from an inline script"
    return {
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in scripts
    }


@pytest.mark.parametrize("path", ["/docs", "/docs/oauth2-redirect"])
def test_the_docs_pages_run_only_this_servers_scripts_and_their_own_inline_one(
    client, path: str
) -> None:
    page = client.get(path)
    assert page.status_code == 200
    directives = dict(
        (d.split(" ", 1) + [""])[:2] for d in page.headers["content-security-policy"].split("; ")
    )
    assert directives["default-src"] == "'none'"
    sources = set(directives["script-src"].split())
    # The inline script the page has is allowed by its hash; no other inline script is.
    assert sources == {"'self'"} | _inline_script_hashes(page.text)
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["base-uri"] == "'none'"
    assert directives["connect-src"] == ("'self'" if path == "/docs" else "'none'")
    assert page.headers["x-content-type-options"] == "nosniff"
