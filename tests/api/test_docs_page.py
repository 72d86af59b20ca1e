"""``/docs``: Swagger UI over the OpenAPI document, every file of it served by this
server from the fastapi-offline package; no CDN, no key needed (as /openapi.json)."""

from __future__ import annotations

import re


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
