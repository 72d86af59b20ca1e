"""Everything a hook signature names is in ``connector.contracts``: a plugin annotating its
hooks as the specs do imports nothing else of the core (``connector.registries`` least)."""

from __future__ import annotations

import inspect
import typing

import pytest

from connector import contracts, hookspecs, registries

SPECS = [
    function
    for function in vars(hookspecs).values()
    if inspect.isfunction(function) and hasattr(function, f"{contracts.PROJECT_NAME}_spec")
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda f: f.__name__)
def test_every_type_a_hook_names_resolves_to_the_contracts(spec) -> None:
    # Resolved in the spec module's own namespace: a name imported only under
    # TYPE_CHECKING (as the registries once were) does not resolve at all.
    hints = typing.get_type_hints(spec)
    for name, hint in hints.items():
        if hint is not type(None):
            assert hint.__module__ == "connector.contracts", (spec.__name__, name, hint)


@pytest.mark.parametrize(
    ("core", "protocol"),
    [
        (registries.ProviderRegistry, contracts.ProviderRegistry),
        (registries.SinkRegistry, contracts.SinkRegistry),
        (registries.RendererRegistry, contracts.RendererRegistry),
    ],
)
def test_the_core_registries_are_what_the_hooks_promise(core, protocol) -> None:
    assert isinstance(core(), protocol)
    assert isinstance(core(), contracts.ClassRegistry)
