"""Imports run one way, down: read from the source (``ast``), nothing is imported.

Every module of ``connector`` belongs to a unit (the longest name in ``LEVELS`` it
starts with) and may import its own unit and units on lower levels. An import of a unit
on the same level or a higher one is an arrow running back up, and so is a module on
no level: a new package is placed before it is used. Imports inside functions and under
``TYPE_CHECKING`` count: an arrow is an arrow, however late it is followed.

Plugins (``plugins/**``, and the examples a third party copies) import only the public
surface, ``PLUGIN_SURFACE``, and so do the hook specifications, whose annotations a
plugin copies; the domain imports only ``DOMAIN_MAY_IMPORT``.
docs/architecture.md draws the same map.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Lowest first; read from today's imports. The pipeline's stages follow the flow (close
# before build before review before publish), except that ingest asks close whether the
# period it read is final, so close sits below ingest.
LEVELS: tuple[tuple[str, ...], ...] = (
    # Pure helpers, no connector import (money is the floor the value types stand on).
    ("connector.domain.money", "connector.frozen", "connector.gc_pause",
     "connector.progress", "connector.safe_paths", "connector.webhooks"),
    ("connector.contracts",),  # the values and Protocols plugins implement and receive
    ("connector.domain", "connector.registries", "connector.testing"),
    ("connector.hookspecs", "connector.storage", "connector.plugin_kit"),
    ("connector.plugins", "connector.config"),
    ("connector.masking",),
    ("connector.runtime",),  # settings, database, plugins, tenants, audit trail
    ("connector.access",),  # API keys, ERP tokens at rest
    ("connector.pipeline.close", "connector.pipeline.credits"),
    ("connector.pipeline.ingest", "connector.pipeline.build"),
    ("connector.pipeline.review",),
    ("connector.pipeline.publish",),
    ("connector.pipeline.sync", "connector.pipeline.reconcile", "connector.pipeline.report"),
    ("connector.pipeline.demo",),
    ("connector.api",),
    ("connector.daemon",),  # runs the API in the daemon (api.enabled)
    ("connector.cli",),
    ("connector.__main__",),
)  # fmt: skip
LEVEL = {unit: level for level, units in enumerate(LEVELS) for unit in units}

# Packages that only group units: a docstring, no import, on no level themselves.
GROUPS = frozenset({"connector", "connector.pipeline"})

# The domain is pure billing rules: it takes values and returns values. What it imports
# of the connector, beyond itself: the value types.
DOMAIN_MAY_IMPORT = ("connector.domain", "connector.contracts")

# What a plugin may import of the connector (a name and anything under it).
PLUGIN_SURFACE = (
    "connector.contracts",  # values, Protocols, errors, the hookimpl marker
    "connector.hookspecs",  # the hook specifications
    "connector.testing",  # the conformance kit
    "connector.plugin_kit",  # helpers for file-reading providers and ERP sinks
    "connector.progress",  # Progress, which a provider's fetch may take (docs/plugins.md)
    "connector.frozen",  # unfrozen_twin, documented for providers in docs/plugins.md
)
PLUGIN_FOLDERS = ("plugins", "examples")


@dataclass(frozen=True, slots=True)
class Source:
    path: str  # relative to the repository, for messages
    text: str
    package: bool  # an __init__.py: relative imports start from the module itself


def module_name(relative: Path) -> str:
    parts = relative.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def read_tree(top: Path, repo: Path = REPO) -> dict[str, Source]:
    """Every module under ``top`` by dotted name (relative to ``repo``)."""
    return {
        module_name(path.relative_to(repo)): Source(
            str(path.relative_to(repo)),
            path.read_text(encoding="utf-8"),
            path.name == "__init__.py",
        )
        for path in sorted(top.rglob("*.py"))
        if not built(path)
    }


def built(path: Path) -> bool:
    """A copy setuptools made, not source: under a distribution's ``build/`` folder (the
    one beside its pyproject.toml, never a package named build) or an ``.egg-info``."""
    return any(
        folder.name.endswith(".egg-info")
        or (folder.name == "build" and (folder.parent / "pyproject.toml").exists())
        for folder in path.parents
    )


@cache
def connector_tree() -> Mapping[str, Source]:
    return read_tree(REPO / "connector")


def is_connector(name: str) -> bool:
    return name == "connector" or name.startswith("connector.")


@cache
def parsed(text: str, path: str) -> tuple[ast.AST, ...]:
    """Every node of a module's syntax tree (each source is read by several checks)."""
    return tuple(ast.walk(ast.parse(text, path)))


def imports(module: str, source: Source, known: Mapping[str, object]) -> Iterator[tuple[int, str]]:
    """(line, module) for every import of the connector in ``source``, wherever it is.

    ``from package import name`` is an import of ``package.name`` when that is a module
    of ``known``, else of ``package``.
    """
    for node in parsed(source.text, source.path):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if is_connector(alias.name):
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package upwards
                package = module.split(".")
                package = package if source.package else package[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, *([base] if base else [])])
            if not is_connector(base):
                continue
            names = (f"{base}.{alias.name}" for alias in node.names)
            for target in dict.fromkeys(name if name in known else base for name in names):
                yield node.lineno, target


def unit_of(module: str) -> str | None:
    """The unit ``module`` belongs to: the longest unit it is or is under."""
    units = [u for u in LEVEL if module == u or module.startswith(u + ".")]
    return max(units, key=len) if units else None


def back_arrows(tree: Mapping[str, Source]) -> list[str]:
    """Every import that runs back up (or sideways), and every module on no level."""
    problems = []
    for module, source in tree.items():
        found = list(imports(module, source, tree))
        if module in GROUPS:
            problems += [
                f"{source.path}:{line}: {module} only groups units; {target} belongs in one"
                for line, target in found
            ]
            continue
        here = unit_of(module)
        if here is None:
            problems.append(f"{source.path}: {module} is on no level: add it to LEVELS")
            continue
        for line, target in found:
            there = unit_of(target)
            if there == here or target in GROUPS:
                continue
            if there is None:
                problems.append(f"{source.path}:{line}: {module} imports {target}, on no level")
            elif LEVEL[there] >= LEVEL[here]:
                problems.append(
                    f"{source.path}:{line}: {module} imports {target}, but {here} (level "
                    f"{LEVEL[here]}) may use only units below level {LEVEL[here]}, and "
                    f"{there} is on level {LEVEL[there]}: the arrow runs back up"
                )
    return problems


def domain_imports(tree: Mapping[str, Source]) -> list[str]:
    """Imports of the domain outside ``DOMAIN_MAY_IMPORT``."""
    return [
        f"{source.path}:{line}: the domain imports {target}; it may import only "
        f"{', '.join(DOMAIN_MAY_IMPORT)}"
        for module, source in tree.items()
        if module == "connector.domain" or module.startswith("connector.domain.")
        for line, target in imports(module, source, tree)
        if not any(target == m or target.startswith(m + ".") for m in DOMAIN_MAY_IMPORT)
    ]


def public(target: str) -> bool:
    return any(target == m or target.startswith(m + ".") for m in PLUGIN_SURFACE)


def plugin_imports(plugins: Mapping[str, Source], core: Mapping[str, object]) -> list[str]:
    """Imports of the connector by plugins outside ``PLUGIN_SURFACE``."""
    return [
        f"{source.path}:{line}: a plugin imports {target}; plugins import only "
        f"{', '.join(PLUGIN_SURFACE)} (what else they need, the core hands them)"
        for module, source in plugins.items()
        for line, target in imports(module, source, core)
        if not public(target)
    ]


def registry_imports(plugins: Mapping[str, Source], core: Mapping[str, object]) -> list[str]:
    """Imports of ``connector.registries`` by plugins: they annotate their registration
    hooks with the registry Protocols of ``connector.contracts``."""
    return [
        f"{source.path}:{line}: a plugin imports {target}; annotate with "
        "connector.contracts.ProviderRegistry, SinkRegistry or RendererRegistry"
        for module, source in plugins.items()
        for line, target in imports(module, source, core)
        if unit_of(target) == "connector.registries"
    ]


def plugin_sources() -> dict[str, Source]:
    plugins = {}
    for folder in PLUGIN_FOLDERS:
        plugins.update(read_tree(REPO / folder))
    assert plugins, "no plugin source found"
    return plugins


def with_line(tree: Mapping[str, Source], module: str, line: str) -> dict[str, Source]:
    """``tree`` with ``line`` added to (or making) ``module``, for checking the checks."""
    old = tree.get(module, Source(module.replace(".", "/") + ".py", "", False))
    return {**tree, module: Source(old.path, f"{old.text}\n{line}\n", old.package)}


# ------------------------------------------------------------------------ the rules


def test_every_connector_import_runs_down_the_levels() -> None:
    assert back_arrows(connector_tree()) == []


def test_the_domain_imports_only_values_and_itself() -> None:
    assert domain_imports(connector_tree()) == []


def test_plugins_import_only_the_public_surface() -> None:
    assert plugin_imports(plugin_sources(), connector_tree()) == []


def test_no_plugin_imports_the_core_registries() -> None:
    assert registry_imports(plugin_sources(), connector_tree()) == []


def test_the_hook_specifications_name_only_types_of_the_public_surface() -> None:
    """A plugin annotating its hooks as the specs do imports what the specs import."""
    tree = connector_tree()
    found = imports("connector.hookspecs", tree["connector.hookspecs"], tree)
    assert [f"line {line}: {target}" for line, target in found if not public(target)] == []


# ---------------------------------------------------------- the checks, checked


@pytest.mark.parametrize(
    ("module", "line", "expected"),
    [
        pytest.param(
            "connector.pipeline.build.build",
            "def late():\n    from connector.cli.support import fail",
            ["connector/pipeline/build/build.py:", "imports connector.cli.support", "runs back up"],
            id="a stage importing the CLI inside a function",
        ),
        pytest.param(
            "connector.pipeline.report.report",
            "from connector.pipeline import reconcile",
            ["imports connector.pipeline.reconcile, but connector.pipeline.report"],
            id="a stage importing a stage on its own level",
        ),
    ],
)
def test_an_arrow_running_back_up_is_found(module: str, line: str, expected: list[str]) -> None:
    (problem,) = back_arrows(with_line(connector_tree(), module, line))
    assert [part for part in expected if part not in problem] == []


def test_a_relative_import_upwards_is_found() -> None:
    tree = with_line(connector_tree(), "connector.storage.db", "from ..runtime import audit")
    (problem,) = back_arrows(tree)
    assert "connector.storage.db imports connector.runtime.audit" in problem


def test_a_module_on_no_level_is_named() -> None:
    tree = with_line(connector_tree(), "connector.pipeline.forecast", "import decimal")
    assert back_arrows(tree) == [
        "connector/pipeline/forecast.py: connector.pipeline.forecast is on no level: "
        "add it to LEVELS"
    ]


def test_a_domain_module_reading_the_database_is_refused() -> None:
    tree = with_line(connector_tree(), "connector.domain.money", "from connector import storage")
    (problem,) = domain_imports(tree)
    assert "connector/domain/money.py" in problem and "imports connector.storage" in problem


def test_a_plugin_importing_the_pipeline_or_storage_is_refused() -> None:
    plugin = Source(
        "plugins/erp/fake/connector_fake/sink.py",
        "from connector.contracts import hookimpl\n"
        "import connector_fake.settings\n"
        "from connector.pipeline.build import documents\n"
        "def late():\n    from connector import storage\n",
        False,
    )
    problems = plugin_imports({"connector_fake.sink": plugin}, connector_tree())
    assert [p.split(": a plugin imports ")[1].split(";")[0] for p in problems] == [
        "connector.pipeline.build.documents",
        "connector.storage",
    ]
    assert problems[0].startswith("plugins/erp/fake/connector_fake/sink.py:3:")


def test_a_plugin_importing_the_core_registries_for_its_annotations_is_refused() -> None:
    plugin = Source(
        "examples/fake/connector_fake/plugin.py",
        "from typing import TYPE_CHECKING\n"
        "from connector.contracts import SinkRegistry\n"
        "if TYPE_CHECKING:\n    from connector.registries import ProviderRegistry\n",
        False,
    )
    (problem,) = registry_imports({"connector_fake.plugin": plugin}, connector_tree())
    assert problem.startswith("examples/fake/connector_fake/plugin.py:4: a plugin imports ")
    assert "connector.registries" in problem
