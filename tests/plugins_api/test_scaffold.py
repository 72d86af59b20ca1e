"""`connector plugin new`: each kind of plugin, as generated, passes the conformance kit,
is found through the entry point its pyproject.toml declares, and lints clean.

Nothing is installed into the shared venv: the generated tests run in a pytest
subprocess with the generated folder on PYTHONPATH, and the entry point is a
``.dist-info`` made from the generated pyproject.toml on a temporary ``sys.path`` entry.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.cli.main import main
from connector.contracts import ENTRY_POINT_GROUP, PLUGIN_API_VERSION
from connector.plugins import load_plugins
from tests.kit.run_pytest import run_pytest

KIT_TESTS = {
    "provider": (
        "test_satisfies_the_provider_protocol",
        "test_source_hash_is_stable_across_fetches",
    ),
    "sink": (
        "test_satisfies_the_sink_protocol",
        "test_the_same_statement_pushed_twice_creates_one_invoice",
    ),
    "renderer": (
        "test_satisfies_the_renderer_protocol",
        "test_output_is_identical_after_the_clock_moves_on",
    ),
}
CLASSES = {"provider": "NimbusProvider", "sink": "NimbusSink", "renderer": "NimbusRenderer"}


def scaffold(parent: Path, name: str, kind: str) -> tuple[int, str]:
    """``connector plugin new --kind KIND --dir PARENT -- NAME``: exit code and output."""
    args = ["plugin", "new", "--kind", kind, "--dir", str(parent), "--", name]
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


@pytest.fixture(scope="module", params=sorted(KIT_TESTS))
def generated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    kind = request.param
    parent = tmp_path_factory.mktemp(f"scaffold-{kind}")
    code, output = scaffold(parent, "nimbus", kind)
    assert code == 0, output
    return kind, parent / "billing-connector-nimbus"


def test_the_generated_plugin_passes_the_conformance_kit_as_generated(generated) -> None:
    kind, folder = generated
    run = run_pytest([], folder, pythonpath=[folder])
    assert run.process.returncode == 0, run.process.stdout + run.process.stderr
    assert not run.failures
    suite = CLASSES[kind]
    kit = {name for name in run.passed if name.startswith(f"Test{suite}::")}
    assert {f"Test{suite}::{test}" for test in KIT_TESTS[kind]} <= kit, run.process.stdout
    assert len(kit) >= 5
    assert any(not name.startswith("Test") for name in run.passed)  # its own test too


def test_the_generated_files(generated) -> None:
    kind, folder = generated
    files = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    assert files == {
        "pyproject.toml",
        "README.md",
        "billing_connector_nimbus/__init__.py",
        "billing_connector_nimbus/plugin.py",
        "tests/test_conformance.py",
    }
    plugin = (folder / "billing_connector_nimbus" / "plugin.py").read_text()
    assert f'PLUGIN_API = "{PLUGIN_API_VERSION}"' in plugin
    assert "connector.registries" not in plugin
    assert "nimbus" in (folder / "README.md").read_text()


def test_the_generated_code_lints_clean(generated) -> None:
    _, folder = generated
    ruff = Path(sys.executable).with_name("ruff")
    for args in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [str(ruff), *args, "--no-cache", str(folder)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
def fresh_package() -> Iterator[None]:
    """Every kind's package is named billing_connector_nimbus: forget it after each test."""
    yield
    for module in [m for m in sys.modules if m.split(".")[0] == "billing_connector_nimbus"]:
        del sys.modules[module]


def test_the_declared_entry_point_is_found_and_loads(
    generated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_package: None
) -> None:
    """A ``.dist-info`` written from the generated pyproject.toml, as pip would install it."""
    kind, folder = generated
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    entry = project["entry-points"][ENTRY_POINT_GROUP]
    assert entry == {"nimbus": "billing_connector_nimbus.plugin"}
    info = tmp_path / "billing_connector_nimbus-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nnimbus = {entry['nimbus']}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delenv("CONNECTOR_BLOCK_PLUGINS", raising=False)
    host = load_plugins()
    record = next(r for r in host.pm.records if r.name == "nimbus")
    assert (record.status, record.distribution, record.error) == (
        "loaded",
        "billing-connector-nimbus",
        None,
    )
    registry = {"provider": host.providers, "sink": host.sinks, "renderer": host.renderers}[kind]
    assert registry.get("nimbus").__name__ == CLASSES[kind]


@pytest.mark.parametrize("name", ["Acme", "acme_cloud", "9cloud", "acme--cloud", "-acme", "a" * 41])
def test_a_bad_name_is_refused_saying_what_is_valid(tmp_path: Path, name: str) -> None:
    code, output = scaffold(tmp_path, name, "provider")
    assert code == 2
    assert f"{name!r} cannot name a plugin: use lower-case letters, digits and single" in output
    assert list(tmp_path.iterdir()) == []


def test_the_name_of_an_installed_plugin_is_refused(tmp_path: Path) -> None:
    code, output = scaffold(tmp_path, "aws", "provider")
    assert code == 2
    assert "a plugin named 'aws' is installed already (from billing-connector-aws)" in output


def test_an_existing_folder_is_not_overwritten(tmp_path: Path) -> None:
    folder = tmp_path / "billing-connector-nimbus"
    folder.mkdir()
    (folder / "pyproject.toml").write_text("# mine\n")
    code, output = scaffold(tmp_path, "nimbus", "sink")
    assert code == 2
    assert "exists already; nothing was written" in output
    assert [p.name for p in folder.iterdir()] == ["pyproject.toml"]
    assert (folder / "pyproject.toml").read_text() == "# mine\n"


def test_an_unknown_kind_is_a_usage_error(tmp_path: Path) -> None:
    code, output = scaffold(tmp_path, "nimbus", "exporter")
    assert code == 2 and "'exporter' is not one of 'provider', 'renderer', 'sink'" in output
