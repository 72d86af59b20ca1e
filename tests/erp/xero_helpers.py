"""Test doubles and checks for the Xero sink: settings, tokens, contract validation."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from connector.contracts import SinkContext, StatementDocument
from tests.erp.token_store import MemoryTokenStore
from tests.erp.xero_simulator import CLIENT_ID, CLIENT_SECRET, TENANT_ID

CONTRACT = Path(__file__).resolve().parents[1] / "contracts" / "xero" / "xero_accounting.yaml"
TOKEN_KEY = f"xero:{TENANT_ID}"
NOW = 1_750_000_000.0
PDF = b"%PDF-1.4 statement\n%%EOF\n"
SETTINGS = {
    "client_id": CLIENT_ID,
    "client_secret": CLIENT_SECRET,
    "tenant_id": TENANT_ID,
    "account_code": "200",
    "tax_type": "OUTPUT",
    "exempt_tax_type": "NONE",
}


def valid_token(expires_at: float = NOW + 1800) -> dict[str, Any]:
    return {
        "access_token": "access-0",
        "refresh_token": "refresh-0",
        "expires_in": 1800,
        "expires_at": expires_at,
        "token_type": "Bearer",
        "scope": ["offline_access", "accounting.transactions"],
    }


def context(
    store: MemoryTokenStore | None, tmp_path: Path, rendered: list | None = None
) -> SinkContext:
    def render(document: StatementDocument, fmt: str) -> bytes:
        assert fmt == "pdf"
        if rendered is not None:
            rendered.append(document.statement_id)
        return PDF

    return SinkContext(
        tenant="northwind", output_dir=tmp_path, run_id="run-1", tokens=store, render=render
    )


@functools.cache
def _contract() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(CONTRACT, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)


def contract_errors(body: Any, schema_name: str) -> list[str]:
    """Every way ``body`` breaks ``components/schemas/<schema_name>`` of Xero's contract.

    Besides JSON Schema validation (OpenAPI 3.0 schemas are draft 4 with extensions),
    properties the contract marks ``readOnly`` may not be sent.
    """
    components = _contract()["components"]
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": components}
    validator = jsonschema.Draft4Validator(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    errors.extend(_read_only(body, components["schemas"][schema_name], components, "$"))
    return errors


def _read_only(value: Any, schema: dict[str, Any], components: dict, where: str) -> list[str]:
    if "$ref" in schema:
        schema = components["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    found = []
    if isinstance(value, dict):
        for name, item in value.items():
            prop = schema.get("properties", {}).get(name)
            if prop is None:
                continue
            if prop.get("readOnly"):
                found.append(f"{where}.{name} is read-only in the contract")
            found.extend(_read_only(item, prop, components, f"{where}.{name}"))
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found.extend(_read_only(item, schema["items"], components, f"{where}[{index}]"))
    return found
