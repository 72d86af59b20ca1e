"""Meta-tests: docs/plugins.md documents every hook with its exact signature, and every
hook, lifecycle setting, event and kit function the plugin API has; every hook has a test.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import pytest

import connector.testing
from connector import contracts, hookspecs
from tests.conftest import REPO

DOC = REPO / "docs" / "plugins.md"
SPEC_MARK = f"{contracts.PROJECT_NAME}_spec"


def hook_specs() -> dict[str, Callable[..., Any]]:
    """Every function ``connector/hookspecs.py`` marks as a hook specification."""
    return {
        name: value
        for name, value in vars(hookspecs).items()
        if inspect.isfunction(value) and hasattr(value, SPEC_MARK)
    }


class _Source(str):
    """An annotation kept as text (``from __future__ import annotations``), shown unquoted."""

    def __repr__(self) -> str:
        return str(self)


def declared_signature(function: Callable[..., Any]) -> str:
    """``def name(arg: Type) -> Return`` exactly as the function is declared."""
    signature = inspect.signature(function)

    def plain(annotation: Any) -> Any:
        return _Source(annotation) if isinstance(annotation, str) else annotation

    signature = signature.replace(
        parameters=[
            p.replace(annotation=plain(p.annotation)) for p in signature.parameters.values()
        ],
        return_annotation=plain(signature.return_annotation),
    )
    return f"def {function.__name__}{signature}"


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def hook_section(name: str) -> str:
    """The doc's text from the hook's ``###`` heading to the next heading."""
    match = re.search(rf"^### `{name}`\n(.*?)(?=^#)", doc_text() + "\n#", re.S | re.M)
    assert match, f"docs/plugins.md has no section '### `{name}`'"
    return match.group(1)


def test_there_are_hooks_to_document() -> None:
    assert {"connector_register_providers", "connector_event"} <= set(hook_specs())


def test_the_signature_rendering_matches_the_source_text() -> None:
    """The rendering compared with the doc is the declaration as written in the source."""
    for function in hook_specs().values():
        source = inspect.getsource(function)
        assert declared_signature(function) in " ".join(source.split()), source


@pytest.mark.parametrize("name", sorted(hook_specs()))
def test_every_hook_is_documented_with_its_exact_signature(name: str) -> None:
    expected = declared_signature(hook_specs()[name])
    assert f"```python\n{expected}\n```" in hook_section(name), (
        f"docs/plugins.md must show {name} as it is declared in connector/hookspecs.py: {expected}"
    )


@pytest.mark.parametrize("name", sorted(hook_specs()))
def test_the_doc_states_how_results_combine_when_a_hook_is_firstresult_or_historic(
    name: str,
) -> None:
    options = getattr(hook_specs()[name], SPEC_MARK)
    section = hook_section(name)
    for option in ("firstresult", "historic"):
        if options.get(option):
            assert option in section, f"{name} is {option}; its section must say so"


def test_the_doc_names_no_hook_that_does_not_exist() -> None:
    documented = set(re.findall(r"^### `(connector_\w+)`", doc_text(), re.M))
    documented |= set(re.findall(r"\bdef (connector_\w+)\(", doc_text()))
    assert documented - set(hook_specs()) == set()
    assert set(hook_specs()) <= documented


def _test_sources() -> dict[str, str]:
    this = {REPO / "tests" / "kit" / "test_plugin_docs.py"}
    return {
        str(path.relative_to(REPO)): path.read_text(encoding="utf-8")
        for path in sorted((REPO / "tests").rglob("test_*.py"))
        if path not in this
    }


@pytest.mark.parametrize("name", sorted(hook_specs()))
def test_every_hook_has_a_test(name: str) -> None:
    """Some test module (other than this one) calls or implements the hook by name."""
    users = [path for path, text in _test_sources().items() if re.search(rf"\b{name}\b", text)]
    assert users, f"no test under tests/ names the hook {name}"


def test_every_plugin_setting_of_the_lifecycle_is_documented() -> None:
    source = (REPO / "connector" / "plugins.py").read_text(encoding="utf-8")
    variables = set(re.findall(r"\bCONNECTOR_[A-Z]+_PLUGINS\b", source))
    assert variables >= {"CONNECTOR_BLOCK_PLUGINS", "CONNECTOR_STRICT_PLUGINS"}
    missing = {v for v in variables if v not in doc_text()}
    assert not missing, f"docs/plugins.md does not explain {sorted(missing)}"
    assert f"`{contracts.ENTRY_POINT_GROUP}`" in doc_text()


def test_every_event_name_is_documented() -> None:
    events = {
        cls.name
        for cls in vars(contracts).values()
        if inspect.isclass(cls) and issubclass(cls, contracts.Event) and cls.name != "event"
    }
    assert "statement-approved" in events
    assert {e for e in events if f"`{e}`" not in doc_text()} == set()


def test_every_public_kit_name_is_documented() -> None:
    missing = {name for name in connector.testing.__all__ if f"`{name}" not in doc_text()}
    assert not missing, f"docs/plugins.md does not document {sorted(missing)}"
