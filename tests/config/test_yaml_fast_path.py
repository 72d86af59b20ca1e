"""Tenant files are read by libyaml, with the pure-Python loader's limits and messages.

Every command reads every tenant file, and the pure-Python loader took about 25 ms a
file. libyaml reads a file within the limits; anything else is read again by the
bounded pure-Python loader, so the data and problems are the same either way, and
nothing beyond the limits reaches libyaml's recursive composer.
"""

from __future__ import annotations

import pytest

from connector.config import yamlfile
from connector.config.yamlfile import MAX_ALIAS_NODES, MAX_DEPTH, parse_yaml
from tests.config.test_tenant_file_yaml_faults import BASE, bomb
from tests.conftest import REPO

pytestmark = pytest.mark.skipif(
    yamlfile._CSafeLoader is None, reason="PyYAML here is built without libyaml"
)


def _nested(levels: int) -> str:
    return "deep: " + "[" * levels + "1" + "]" * levels + "\n"


def _alias_chain(levels: int) -> str:
    # Each alias stands for all of the previous level: size grows geometrically.
    return "erp:\n  settings:\n" + bomb(levels=levels, width=3)


TEXTS = {
    **{p.name: p.read_text() for p in sorted((REPO / "config/tenants").glob("*.yaml"))},
    "base": BASE,
    "duplicate keys": BASE + "tenant: again\n",
    "impossible date": BASE.replace("2026-01-01", "2026-02-30"),
    "merge keys": "a: &a {x: 1}\nb:\n  <<: *a\n  y: 2\n",
    "syntax error": BASE.replace("  colour: blue", "  colour: [blue"),
    "tab indent": "a:\n\tb: 1\n",
    "two documents": "a: 1\n---\nb: 2\n",
    "undefined alias": "a: *nowhere\n",
    "alias in its own block": "loop: &loop [1, *loop]\n",
    "empty": "",
    "at the depth limit": _nested(MAX_DEPTH - 1),
    "one past the depth limit": _nested(MAX_DEPTH),
    "far too deep": _nested(5_000),
    "aliases within the limit": _alias_chain(8),  # 3**8 = 6,561 values
    "aliases past the limit": _alias_chain(11),  # 3**11 = 177,147 values
}


@pytest.mark.parametrize("name", list(TEXTS))
def test_libyaml_and_the_pure_python_loader_give_the_same_data_and_problems(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_doc, fast_issues = parse_yaml(TEXTS[name], "t.yaml")
    monkeypatch.setattr(yamlfile, "_CSafeLoader", None)
    slow_doc, slow_issues = parse_yaml(TEXTS[name], "t.yaml")
    assert fast_issues == slow_issues
    assert (fast_doc is None) == (slow_doc is None)
    if fast_doc is not None and slow_doc is not None:
        assert fast_doc.data == slow_doc.data
        assert fast_doc.locate(("tenant",)) == slow_doc.locate(("tenant",))


def test_a_well_formed_tenant_file_is_read_by_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_slow_path(text: str) -> None:
        raise AssertionError("the pure-Python loader was used")

    monkeypatch.setattr(yamlfile, "_Loader", no_slow_path)
    doc, issues = parse_yaml(TEXTS["acme.yaml"], "acme.yaml")
    assert issues == [] and doc is not None and doc.data["tenant"] == "acme"


@pytest.mark.parametrize(
    "name", ["one past the depth limit", "far too deep", "aliases past the limit"]
)
def test_a_file_beyond_the_limits_never_reaches_libyamls_composer(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_composing(self: object) -> None:
        raise AssertionError("composed by libyaml")

    monkeypatch.setattr(yamlfile._FastLoader, "get_single_node", no_composing)
    doc, [issue] = parse_yaml(TEXTS[name], "t.yaml")
    assert doc is None
    assert f"{MAX_DEPTH} levels" in issue.message or f"{MAX_ALIAS_NODES:,}" in issue.message
