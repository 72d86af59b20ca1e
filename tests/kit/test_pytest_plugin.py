"""The kit as a pytest plugin: shipped through ``pytest11`` and offering its fixtures."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

from connector.testing.pytest_plugin import pytest_report_header
from tests.kit.run_pytest import KIT_PLUGIN, run_pytest

FIXTURE_USER = """
def test_samples(connector_samples):
    assert sorted(connector_samples) == ["credit-note", "draft", "foreign-currency", "open"]


def test_sink_context(connector_sink_context, connector_token_store, tmp_path):
    assert connector_sink_context.output_dir == tmp_path
    assert connector_sink_context.tokens is connector_token_store
    document = __import__("connector.testing").testing.sample_documents()["open"]
    assert connector_sink_context.render(document, "pdf") == b"pdf of statement kit-st-0001 r1\\n"
"""


def test_the_kit_is_published_as_the_pytest11_plugin_connector() -> None:
    """Needs the root pyproject's ``[project.entry-points.pytest11]`` and a reinstall."""
    found = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert found.get("connector") == KIT_PLUGIN, (
        'add `[project.entry-points.pytest11] connector = "connector.testing.pytest_plugin"` '
        "to pyproject.toml and run .venv/bin/pip install -e ."
    )


def test_the_fixtures_work_in_a_plugin_authors_test_run(tmp_path: Path) -> None:
    (tmp_path / "test_uses_fixtures.py").write_text(FIXTURE_USER)
    run = run_pytest(["test_uses_fixtures.py"], tmp_path)
    assert run.passed == {"test_samples", "test_sink_context"}, run.process.stdout


def test_the_report_header_lists_the_installed_plugins_with_their_distributions() -> None:
    header = pytest_report_header(None)  # type: ignore[arg-type]
    assert header.startswith("billing_connector plugins: ")
    assert "aws (billing-connector-aws 0.1.0)" in header
    assert "example-markdown (connector-example-renderer 0.1.0)" in header
