"""The example third-party plugin: installed into the venv, found, and passing the kit."""

from __future__ import annotations

from importlib.metadata import distribution, entry_points

from connector.contracts import ENTRY_POINT_GROUP
from connector.plugins import load_plugins
from tests.conftest import REPO
from tests.kit.run_pytest import run_pytest

EXAMPLE = REPO / "examples" / "connector-example-renderer"
INSTALL_HINT = (
    "install it: .venv/bin/pip install -e examples/connector-example-renderer "
    "(it is in requirements-dev.txt)"
)


def test_the_example_is_installed_under_the_billing_connector_entry_point_group() -> None:
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert "example-markdown" in found, INSTALL_HINT
    assert found["example-markdown"].value == "connector_example_renderer.plugin"
    assert found["example-markdown"].dist.metadata["Name"] == "connector-example-renderer"
    assert distribution("connector-example-renderer").version == "0.1.0"


def test_the_example_renderer_is_loaded_like_any_plugin_and_offers_markdown() -> None:
    host = load_plugins()
    record = next(r for r in host.pm.records if r.name == "example-markdown")
    assert record.status == "loaded", record.error
    assert record.hooks == ["connector_register_renderers"]
    assert host.renderers.owner("markdown") == "example-markdown"
    assert host.renderers.suffix("markdown") == ".md"


def test_the_example_passes_the_kit_in_its_own_test_run() -> None:
    """``pytest`` in the example's folder, as its author would run it: all green."""
    run = run_pytest([], EXAMPLE)
    assert run.process.returncode == 0, run.process.stdout + run.process.stderr
    assert not run.failures
    kit_tests = {name for name in run.passed if name.startswith("TestMarkdownRenderer::")}
    assert {
        "TestMarkdownRenderer::test_satisfies_the_renderer_protocol",
        "TestMarkdownRenderer::test_output_is_deterministic[markdown-open]",
        "TestMarkdownRenderer::test_output_is_deterministic[markdown-credit-note]",
        "TestMarkdownRenderer::test_output_is_identical_after_the_clock_moves_on",
        "TestMarkdownRenderer::test_unknown_format_raises_plugin_error",
    } <= kit_tests, run.process.stdout
    # The example's own tests use the kit's pytest plugin fixture connector_samples.
    assert "test_every_line_and_the_total_are_in_the_table" in run.passed
