"""The kit as a pytest plugin (entry point ``pytest11: connector``).

Loaded into every pytest run of an environment where billing-connector is installed, so
it stays cheap: fixtures for a plugin author's own tests, and a report header naming the
Billing Connector plugins installed (read from metadata; nothing is imported). Disable it
with ``pytest -p no:connector``.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

from connector.contracts import ENTRY_POINT_GROUP, SinkContext, StatementDocument
from connector.testing.samples import sample_documents
from connector.testing.sink import KIT_TENANT, MemoryTokenStore, stand_in_render


def pytest_report_header(config: pytest.Config) -> str:
    """``billing_connector plugins: aws (billing-connector-aws 0.1.0), ...``."""
    found = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = f" ({ep.dist.metadata['Name']} {ep.dist.version})" if ep.dist else ""
        found.append(f"{ep.name}{dist}")
    return f"{ENTRY_POINT_GROUP} plugins: {', '.join(found) or 'none'}"


@pytest.fixture
def connector_samples() -> dict[str, StatementDocument]:
    """The kit's sample statements by name: draft, open, foreign-currency, credit-note."""
    return sample_documents()


@pytest.fixture
def connector_token_store() -> MemoryTokenStore:
    """An empty in-memory token store, as the core hands OAuth2 sinks."""
    return MemoryTokenStore()


@pytest.fixture
def connector_sink_context(tmp_path: Path, connector_token_store: MemoryTokenStore) -> SinkContext:
    """A SinkContext writing below ``tmp_path``, with the token store and a stand-in render."""
    return SinkContext(
        tenant=KIT_TENANT,
        output_dir=tmp_path,
        run_id="kit-run-1",
        tokens=connector_token_store,
        render=stand_in_render,
    )
