"""The plugin kit as a public surface: documented, light to import, and the plugins that
use it importing neither each other nor themselves in a circle."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import connector.plugin_kit
from tests.conftest import REPO

KIT_MODULES = sorted(
    f"connector.plugin_kit.{info.name}"
    for info in pkgutil.iter_modules(connector.plugin_kit.__path__)
)
DOC = REPO / "docs" / "plugins.md"


def public_api(module: str) -> set[str]:
    """The functions and classes a kit module defines (not imports), but private ones."""
    path = REPO / Path(*module.split(".")).with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_")
    }


def test_the_kit_has_modules_for_files_and_for_sinks() -> None:
    assert {"connector.plugin_kit.files", "connector.plugin_kit.sinks"} <= set(KIT_MODULES)


@pytest.mark.parametrize("module", KIT_MODULES)
def test_every_public_kit_function_and_class_is_documented(module: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert f"`{module}`" in doc, f"docs/plugins.md does not present {module}"
    missing = {name for name in public_api(module) if f"`{name}" not in doc}
    assert not missing, f"docs/plugins.md does not document {module}: {sorted(missing)}"


def test_the_kit_imports_without_duckdb() -> None:
    code = "import sys\nsys.modules['duckdb'] = None\n" + "".join(
        f"import {module}\n" for module in KIT_MODULES
    )
    done = subprocess.run(
        [sys.executable, "-c", code + "print('ok')"], capture_output=True, text=True, cwd=REPO
    )
    assert done.stdout.strip() == "ok", done.stderr


# -- the plugins' imports --------------------------------------------------------------


def plugin_packages(root: Path) -> dict[str, Path]:
    """Each built-in plugin's top-level package (``connector_aws``) and its folder."""
    return {
        package.name: package
        for package in sorted(root.glob("*/*/connector_*"))
        if (package / "__init__.py").is_file()
    }


def imports_of(path: Path) -> Iterator[str]:
    """Every module ``path`` imports, at the top, in functions or for type checking."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def plugin_problems(root: Path) -> list[str]:
    """What breaks the rules: a plugin importing another plugin, or its own modules
    importing each other in a circle (lazy and type-checking imports count: a reader
    still meets the circle)."""
    packages = plugin_packages(root)
    problems = []
    for name, folder in packages.items():
        modules = {f"{name}.{p.stem}": p for p in folder.glob("*.py") if p.stem != "__init__"}
        graph: dict[str, set[str]] = {}
        for module, path in modules.items():
            imported = set(imports_of(path))
            for other in packages.keys() - {name}:
                if any(i == other or i.startswith(f"{other}.") for i in imported):
                    problems.append(f"{module} imports the plugin {other}")
            graph[module] = {i for i in imported if i in modules and i != module}
        problems += [f"import circle: {' -> '.join(c)}" for c in _circles(graph)]
    return problems


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt == path[0]:
                found.append([*path, nxt])
            elif nxt not in path and nxt > path[0]:  # each circle once, from its least module
                visit(nxt, [*path, nxt])

    for start in sorted(graph):
        visit(start, [start])
    return found


def test_the_checker_finds_a_circle_and_a_plugin_importing_another(tmp_path: Path) -> None:
    one = tmp_path / "erp" / "one" / "connector_one"
    two = tmp_path / "erp" / "two" / "connector_two"
    for folder in (one, two):
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text("")
    (one / "plugin.py").write_text("from connector_one import notes\n")
    (one / "notes.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from connector_one.plugin import X\n"
    )
    (two / "plugin.py").write_text("def f():\n    from connector_one.notes import g\n")
    assert plugin_problems(tmp_path) == [
        "import circle: connector_one.notes -> connector_one.plugin -> connector_one.notes",
        "connector_two.plugin imports the plugin connector_one",
    ]


def test_no_plugin_imports_another_or_has_an_import_circle() -> None:
    assert len(plugin_packages(REPO / "plugins")) >= 10
    assert plugin_problems(REPO / "plugins") == []
