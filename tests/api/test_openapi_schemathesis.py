"""Schemathesis against the app's own OpenAPI: no 5xx, every answer as documented.

Each operation is called with generated valid input, with invalid input, and (where
the path names a statement) with a real statement's id, always with an operator key
so the answers are the operation's own rather than all 401s. A few examples per
operation keep the run short; the point is the contract, not an exhaustive fuzz.

(Schemathesis's ``from_fixture`` does not work with pytest 9, so the operations are
parametrized from the document here and each builds its Hypothesis test.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from connector.access.api_keys import create_key
from connector.api import create_app
from tests.api.conftest import statement_ids

# The document does not depend on the data, so an app without a runtime can list it.
DOCUMENT = create_app(None).openapi()  # type: ignore[arg-type]


def _cases() -> list[tuple[str, str, str]]:
    """(method, path, variant): invalid input only where there is input to spoil,
    a real statement only where the path names one."""
    cases = []
    for path, methods in DOCUMENT["paths"].items():
        for method, operation in methods.items():
            cases.append((method.upper(), path, "valid input"))
            if operation.get("parameters") or operation.get("requestBody"):
                cases.append((method.upper(), path, "invalid input"))
            if "{statement_id}" in path:
                cases.append((method.upper(), path, "a real statement"))
    return cases


CASES = _cases()
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
]


@pytest.mark.parametrize(("method", "path", "variant"), CASES, ids=[" ".join(c) for c in CASES])
def test_the_api_keeps_its_openapi_contract(sqlite_runtime, method, path, variant) -> None:
    app = create_app(sqlite_runtime)
    headers = {"Authorization": f"Bearer {create_key(sqlite_runtime, 'acme', 'operator').token}"}
    operation = schemathesis.openapi.from_asgi("/openapi.json", app)[path][method]
    mode = GenerationMode.NEGATIVE if variant == "invalid input" else GenerationMode.POSITIVE
    fixed = {}
    if variant == "a real statement":
        fixed["path_parameters"] = {"statement_id": statement_ids(sqlite_runtime, "acme")["1001"]}
    strategy = operation.as_strategy(mode, **fixed)

    @given(case=strategy)
    @settings(
        max_examples=6,
        deadline=None,
        database=None,
        derandomize=True,  # the same examples on every run: a CI failure reproduces
        suppress_health_check=list(HealthCheck),
    )
    def calls(case) -> None:  # type: ignore[no-untyped-def]
        case.call_and_validate(headers=headers, checks=CHECKS)

    calls()
