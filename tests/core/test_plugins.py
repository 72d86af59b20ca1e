"""The plugin host: entry points loaded one by one, failures isolated, block list."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from connector.contracts import Event
from connector.plugins import PluginLoadError, get_plugin_manager, load_plugins
from connector.registries import DuplicatePluginError, ProviderRegistry

BUILT_INS = {
    "aws": "billing-connector-aws",
    "softlayer": "billing-connector-softlayer",
    "focus": "billing-connector-focus",
    "html-renderer": "billing-connector-render-html",
    "ubl-renderer": "billing-connector-render-ubl",
    "csv-sink": "billing-connector-erp-csv",
    "csv-renderer": "billing-connector-render-csv",
    "pdf-renderer": "billing-connector-render-pdf",
}


def install_fake_distribution(site: Path, dist: str, entry: str, module: str, code: str) -> None:
    """Put a distribution with one billing_connector entry point on ``site``, as pip would."""
    (site / f"{module}.py").write_text(code)
    info = site / f"{dist.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(f"[billing_connector]\n{entry} = {module}\n")


BROKEN = "raise RuntimeError('this plugin is broken on purpose')\n"
SHOUTER = """
from connector.contracts import hookimpl

seen = []

@hookimpl
def connector_event(event):
    seen.append(event.name)
"""
BAD_REGISTRATION = """
from connector.contracts import hookimpl

@hookimpl
def connector_register_providers(registry):
    raise ValueError('cannot register')
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("CONNECTOR_BLOCK_PLUGINS", raising=False)
    monkeypatch.delenv("CONNECTOR_STRICT_PLUGINS", raising=False)
    return tmp_path


def test_every_built_in_is_loaded_through_its_entry_point(site: Path) -> None:
    host = load_plugins()
    records = {r.name: r for r in host.pm.records}
    for name, dist in BUILT_INS.items():
        assert records[name].status == "loaded", records[name].error
        assert records[name].distribution == dist
        assert records[name].hooks
    assert "aws" in host.providers
    assert "csv" in host.sinks
    assert {"pdf", "csv", "detailed-csv"} <= set(host.renderers.names())
    assert host.providers.owner("aws") == "aws"


def test_a_broken_plugin_is_reported_by_name_and_distribution_and_the_rest_still_work(
    site: Path,
) -> None:
    install_fake_distribution(site, "acme-broken-plugin", "broken", "acme_broken", BROKEN)
    host = load_plugins()
    broken = next(r for r in host.pm.records if r.name == "broken")
    assert broken.status == "failed"
    assert broken.distribution == "acme-broken-plugin"
    assert broken.version == "1.2.3"
    assert "broken on purpose" in broken.error
    assert "aws" in host.providers and "csv" in host.sinks


def test_strict_mode_stops_at_a_broken_plugin_naming_it(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_fake_distribution(site, "acme-broken-plugin", "broken", "acme_broken", BROKEN)
    monkeypatch.setenv("CONNECTOR_STRICT_PLUGINS", "1")
    with pytest.raises(PluginLoadError, match="'broken' from distribution 'acme-broken-plugin'"):
        get_plugin_manager()


def test_a_plugin_failing_to_register_is_marked_failed(site: Path) -> None:
    install_fake_distribution(site, "acme-bad-reg", "badreg", "acme_badreg", BAD_REGISTRATION)
    host = load_plugins()
    record = next(r for r in host.pm.records if r.name == "badreg")
    assert record.status == "failed" and "cannot register" in record.error
    assert "aws" in host.providers


def test_blocked_plugins_are_not_loaded(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_BLOCK_PLUGINS", "aws, billing-connector-render-pdf")
    host = load_plugins()
    statuses = {r.name: r.status for r in host.pm.records}
    assert statuses["aws"] == "blocked" and statuses["pdf-renderer"] == "blocked"
    assert "aws" not in host.providers and "pdf" not in host.renderers
    assert "csv" in host.sinks


@dataclass(frozen=True, slots=True)
class Pinged(Event):
    name = "pinged"


def test_a_failing_event_handler_is_logged_and_the_others_still_run(
    site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    install_fake_distribution(site, "acme-shout", "shouter", "acme_shouter", SHOUTER)
    install_fake_distribution(
        site,
        "acme-crash",
        "crasher",
        "acme_crasher",
        """
from connector.contracts import hookimpl

@hookimpl
def connector_event(event):
    raise RuntimeError('handler down')
""",
    )
    host = load_plugins()
    with caplog.at_level(logging.ERROR):
        host.emit(Pinged(tenant="t"))
    assert sys.modules["acme_shouter"].seen == ["pinged"]
    assert "crasher failed handling event pinged" in caplog.text


def test_a_name_registered_twice_names_both_plugins() -> None:
    class One:
        name = "aws"

    registry = ProviderRegistry()
    registry.current_plugin = "first"
    registry.add(One)
    registry.current_plugin = "second"
    with pytest.raises(DuplicatePluginError, match="'first' and 'second'"):
        registry.add(One)


def test_unknown_name_lists_what_is_available(site: Path) -> None:
    host = load_plugins()
    with pytest.raises(Exception, match=r"no provider named 'gcp' is installed \(available: .*aws"):
        host.providers.get("gcp")


def test_connector_plugins_command_lists_built_ins_and_the_broken_one(site: Path) -> None:
    install_fake_distribution(site, "acme-broken-plugin", "broken", "acme_broken", BROKEN)
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run(
        [sys.executable, "-m", "connector", "plugins", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    records = {r["name"]: r for r in json.loads(out)}
    assert records["broken"]["status"] == "failed"
    assert records["broken"]["distribution"] == "acme-broken-plugin"
    for name, dist in BUILT_INS.items():
        assert records[name]["distribution"] == dist and records[name]["status"] == "loaded"
