"""The registration hooks: each built-in's implementation, and the core calling them."""

from __future__ import annotations

from typing import ClassVar

import connector_erp_csv.plugin as csv_sink_plugin
import connector_example_renderer.plugin as example_plugin
import connector_render_csv.plugin as csv_renderer_plugin
import connector_render_pdf.plugin as pdf_renderer_plugin
import pytest

from connector.contracts import PushResult, hookimpl
from connector.plugins import get_plugin_manager, load_plugins
from connector.registries import RendererRegistry, SinkRegistry, UnknownPluginError


class KitFakeSink:
    name: ClassVar[str] = "kit-fake"
    settings_model: ClassVar[type | None] = None

    def __init__(self, settings, context) -> None:
        self.context = context

    def push(self, documents):
        return [PushResult(d.statement_id, d.number, True) for d in documents]


class KitFakeRenderer:
    name: ClassVar[str] = "kit-fake"
    formats: ClassVar[dict[str, str]] = {"kit-fake-a": ".a", "kit-fake-b": ".b"}

    def render(self, document, fmt):
        return fmt.encode()


class KitFakePlugin:
    """A plugin object, as an entry point's module would be, implementing both hooks."""

    @staticmethod
    @hookimpl
    def connector_register_sinks(registry):
        registry.add(KitFakeSink)

    @staticmethod
    @hookimpl
    def connector_register_renderers(registry):
        registry.add(KitFakeRenderer)


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CONNECTOR_BLOCK_PLUGINS", raising=False)
    monkeypatch.delenv("CONNECTOR_STRICT_PLUGINS", raising=False)
    pm = get_plugin_manager()
    pm.register(KitFakePlugin, name="kit-fake-plugin")
    return load_plugins(pm)


def test_connector_register_sinks_of_the_csv_plugin_adds_the_csv_sink() -> None:
    registry = SinkRegistry()
    csv_sink_plugin.connector_register_sinks(registry)
    assert registry.names() == ["csv"]
    assert registry.get("csv") is csv_sink_plugin.CsvSink


@pytest.mark.parametrize(
    ("plugin", "formats"),
    [
        (csv_renderer_plugin, ["csv", "detailed-csv"]),
        (pdf_renderer_plugin, ["pdf"]),
        (example_plugin, ["markdown"]),
    ],
)
def test_connector_register_renderers_adds_every_format_of_the_renderer(plugin, formats) -> None:
    registry = RendererRegistry()
    plugin.connector_register_renderers(registry)
    assert registry.names() == formats


def test_a_sink_added_by_connector_register_sinks_is_found_by_its_name(host) -> None:
    assert host.sinks.get("kit-fake") is KitFakeSink
    assert host.sinks.owner("kit-fake") == "kit-fake-plugin"
    assert "csv" in host.sinks  # the built-ins registered too


def test_a_renderer_added_by_connector_register_renderers_is_found_by_each_format(host) -> None:
    assert host.renderers.get("kit-fake-a") is KitFakeRenderer
    assert host.renderers.suffix("kit-fake-b") == ".b"
    with pytest.raises(
        UnknownPluginError, match="no renderer format named 'kit-fake' is installed"
    ):
        host.renderers.get("kit-fake")  # renderers are found by format, not by name
