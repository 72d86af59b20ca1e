"""The plugin API version: a plugin built for an API this core cannot serve is refused
at load, named with its distribution and both versions, and the other plugins load."""

from __future__ import annotations

import json
import logging
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector import contracts
from connector.cli.main import main
from connector.contracts import ENTRY_POINT_GROUP, PLUGIN_API_VERSION
from connector.plugins import (
    ConnectorPluginManager,
    PluginHost,
    PluginLoadError,
    PluginRecord,
    get_plugin_manager,
    load_plugins,
)
from tests.core.test_plugins import install_fake_distribution


def renderer_plugin(api: str | None) -> str:
    """A plugin module offering the ``fake-api`` format, declaring ``api`` (or nothing)."""
    declared = "" if api is None else f"PLUGIN_API = {api!r}\n"
    return f"""
from connector.contracts import hookimpl
{declared}
class FakeApiRenderer:
    name = "fake-api"
    formats = {{"fake-api": ".txt"}}

    def render(self, document, fmt):
        return b"fake"

@hookimpl
def connector_register_renderers(registry):
    registry.add(FakeApiRenderer)
"""


def install(site: Path, api: str | None, module: str = "acme_api_plugin") -> None:
    install_fake_distribution(site, "acme-api-plugin", "acme-api", module, renderer_plugin(api))


def record(loaded: PluginHost | ConnectorPluginManager, name: str = "acme-api") -> PluginRecord:
    pm = loaded.pm if isinstance(loaded, PluginHost) else loaded
    return next(r for r in pm.records if r.name == name)


def test_a_plugin_built_for_the_next_major_is_refused_naming_both_versions(site: Path) -> None:
    install(site, "2.0", "acme_api_two")
    host = load_plugins()
    refused = record(host)
    assert refused.status == "refused"
    assert refused.error == (
        "plugin 'acme-api' from distribution 'acme-api-plugin' 1.2.3 is built for plugin "
        "API 2.0, but this Billing Connector offers plugin API 1.0: upgrade "
        "billing-connector to one offering plugin API 2.0, or install a version of "
        "acme-api-plugin built for 1.0; or block it with CONNECTOR_BLOCK_PLUGINS=acme-api"
    )
    assert "fake-api" not in host.renderers  # its hooks never ran
    assert refused.hooks == []
    # The others still load.
    assert "aws" in host.providers and "csv" in host.sinks and "pdf" in host.renderers


def test_a_plugin_built_for_a_newer_minor_is_refused(site: Path) -> None:
    install(site, "1.1", "acme_api_minor")
    refused = record(load_plugins())
    assert refused.status == "refused"
    assert "built for plugin API 1.1, but this Billing Connector offers plugin API 1.0" in (
        refused.error
    )


def test_a_plugin_built_for_an_older_major_is_told_to_upgrade_itself(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("connector.plugins.PLUGIN_API_VERSION", "2.0")
    install(site, "1.0", "acme_api_old")
    refused = record(get_plugin_manager())
    assert refused.status == "refused"
    assert "built for plugin API 1.0, but this Billing Connector offers plugin API 2.0: " in (
        refused.error
    )
    assert "install a version of acme-api-plugin built for plugin API 2.x" in refused.error


def test_a_plugin_built_for_the_same_or_an_older_minor_loads(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("connector.plugins.PLUGIN_API_VERSION", "1.3")
    install(site, "1.2", "acme_api_compatible")
    host = load_plugins()
    loaded = record(host)
    assert (loaded.status, loaded.error) == ("loaded", None)
    assert host.renderers.owner("fake-api") == "acme-api"


def test_a_plugin_declaring_no_api_loads_as_1_0_with_a_warning(
    site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    install(site, None, "acme_api_undeclared")
    with caplog.at_level(logging.WARNING, logger="connector.plugins"):
        host = load_plugins()
    assert record(host).status == "loaded" and "fake-api" in host.renderers
    assert (
        "plugin acme-api from acme-api-plugin 1.2.3 declares no PLUGIN_API; loaded as built "
        'for plugin API 1.0 (add PLUGIN_API = "1.0" to its module acme_api_undeclared)'
    ) in caplog.text


def test_an_undeclared_plugin_is_refused_once_the_major_moves_on(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("connector.plugins.PLUGIN_API_VERSION", "2.0")
    install(site, None, "acme_api_undeclared_two")
    assert record(get_plugin_manager()).status == "refused"


@pytest.mark.parametrize("api", ["1", "v1.0", "1.0.0", 1.0])
def test_a_malformed_declaration_is_refused_saying_what_is_valid(site: Path, api) -> None:
    module = "acme_api_bad_" + str(abs(hash(repr(api))))
    code = renderer_plugin(None).replace(
        "from connector.contracts import hookimpl\n",
        f"from connector.contracts import hookimpl\nPLUGIN_API = {api!r}\n",
    )
    install_fake_distribution(site, "acme-api-plugin", "acme-api", module, code)
    refused = record(get_plugin_manager())
    assert refused.status == "refused"
    assert f'declares PLUGIN_API = {api!r}; it must be a string "MAJOR.MINOR" such as ' in (
        refused.error
    )


def test_strict_mode_stops_at_a_refused_plugin(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install(site, "2.0", "acme_api_strict")
    monkeypatch.setenv("CONNECTOR_STRICT_PLUGINS", "1")
    with pytest.raises(PluginLoadError, match="built for plugin API 2.0, but this Billing"):
        get_plugin_manager()


def test_connector_plugins_shows_the_refusal(site: Path) -> None:
    install(site, "2.0", "acme_api_cli")
    result = CliRunner().invoke(main, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    records = {r["name"]: r for r in json.loads(result.output)}
    assert records["acme-api"]["status"] == "refused"
    assert "plugin API 2.0" in records["acme-api"]["error"]
    assert records["aws"]["status"] == "loaded"


def test_every_plugin_of_this_repository_declares_the_core_api() -> None:
    repo = Path(__file__).resolve().parents[2]
    modules = {
        ep.name: import_module(ep.value.partition(":")[0])
        for ep in entry_points(group=ENTRY_POINT_GROUP)
    }
    ours = {name: m for name, m in modules.items() if Path(m.__file__).is_relative_to(repo)}
    assert {"aws", "csv-sink", "pdf-renderer", "example-markdown"} <= set(ours)
    for name, module in ours.items():
        assert getattr(module, "PLUGIN_API", None) == PLUGIN_API_VERSION, name


def test_the_core_declares_its_api_as_major_dot_minor() -> None:
    major, minor = contracts.PLUGIN_API_VERSION.split(".")
    assert major.isdigit() and minor.isdigit()
