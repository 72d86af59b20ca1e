"""The plugin surface of the providers that read a folder of exports (aws, azure,
azure-csp, focus): registered under their names, found through their entry points, true
to the Provider protocol, their settings validated and a missing folder named."""

from __future__ import annotations

import pytest
from connector_aws import AwsCurProvider, AwsSettings
from connector_aws import plugin as aws_plugin
from connector_azure import AzureCostProvider, AzureCspProvider, AzureCspSettings, AzureSettings
from connector_azure import plugin as azure_plugin
from connector_focus import FocusProvider, FocusSettings
from connector_focus import plugin as focus_plugin

from connector.contracts import PluginError, Provider, SourceDataError
from connector.plugins import load_plugins
from connector.registries import ProviderRegistry
from tests.providers.fetching import FolderFetch

# name, provider class, its settings model, the plugin module registering it
PROVIDERS = [
    ("aws", AwsCurProvider, AwsSettings, aws_plugin),
    ("azure", AzureCostProvider, AzureSettings, azure_plugin),
    ("azure-csp", AzureCspProvider, AzureCspSettings, azure_plugin),
    ("focus", FocusProvider, FocusSettings, focus_plugin),
]
CLASSES = [provider for _, provider, _, _ in PROVIDERS]


@pytest.mark.parametrize(("name", "provider", "settings_model", "plugin"), PROVIDERS)
def test_plugin_registers_the_provider_under_its_name(name, provider, settings_model, plugin):
    registry = ProviderRegistry()
    plugin.connector_register_providers(registry)
    assert registry.get(name) is provider
    assert provider.settings_model is settings_model


@pytest.mark.parametrize(("name", "provider"), [(name, cls) for name, cls, _, _ in PROVIDERS])
def test_entry_point_is_discovered(name, provider):
    assert load_plugins().providers.get(name) is provider


@pytest.mark.parametrize("provider", CLASSES)
def test_provider_satisfies_the_provider_protocol(tmp_path, provider):
    assert isinstance(provider({"path": "."}, tmp_path), Provider)


@pytest.mark.parametrize("provider", CLASSES)
def test_missing_folder_is_a_source_data_error_naming_it(tmp_path, provider):
    with pytest.raises(SourceDataError, match="nowhere"):
        FolderFetch(provider)(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("provider", "settings", "match"),
    [
        (AwsCurProvider, {"path": ".", "bucket": "x"}, "bucket"),
        (AzureCostProvider, {"path": ".", "bucket": "x"}, "azure provider settings are invalid"),
        (AzureCostProvider, {"path": ".", "billing_day": 0}, "azure provider settings"),
        (AzureCostProvider, {"path": ".", "billing_day": 32}, "azure provider settings"),
        (AzureCspProvider, {"path": ".", "format": "csp"}, "azure-csp provider settings are"),
        (AzureCspProvider, {"path": ".", "billing_day": 0}, "azure-csp provider settings"),
        (AzureCspProvider, {"path": " "}, "azure-csp provider settings"),
        (FocusProvider, {"path": ".", "billing_day": 3}, "focus provider settings are invalid"),
        (FocusProvider, {"path": ""}, "focus provider settings"),
        (FocusProvider, {}, "focus provider settings"),
    ],
)
def test_invalid_settings_are_rejected(tmp_path, provider, settings, match):
    with pytest.raises(PluginError, match=match):
        provider(settings, tmp_path)
