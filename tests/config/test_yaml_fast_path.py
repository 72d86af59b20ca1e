"""Tenant files are read from libyaml's events, with the pure-Python loader's limits
and messages.

Every command reads every tenant file, and the pure-Python loader took about 25 ms a
file; a distributor's file of 20,000 customers took 12 s and a 220 MB libyaml node
tree. Values are built straight from libyaml's events in one flat loop; anything
unusual is read again by the bounded pure-Python loader, so the data, the problems
and the lines that :meth:`YamlDocument.locate` finds are the same either way, and
nothing beyond the limits reaches libyaml's recursive composer.
"""

from __future__ import annotations

from typing import Any

import pytest

from connector.config import yamlfile
from connector.config.yamlfile import MAX_ALIAS_NODES, MAX_DEPTH, Loc, YamlDocument, parse_yaml
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

# What the event loop itself reads (each must not fall back to the composer).
USUAL = {
    "scalar values": (
        "int: 12\nnegative: -7\noctal: 0o17\nhex: 0x1F\nsexagesimal: 1:30\n"
        "underscored: 1_000\nfloat: 1.5\nexponent: 6.02e+23\ninf: -.inf\n"
        "bools: [yes, No, true, OFF, on]\nnulls: [~, null, Null]\n"
        "date: 2026-01-31\ntimestamp: 2026-01-31 10:00:00 +02:00\n"
        "impossible: 2026-02-30\nquoted: ['12', \"true\", '2026-01-31', '']\n"
        "money: 12.50\nversion: 1.2.3\n"
    ),
    "scalar keys": (
        "1: int\n1.5: float\nfalse: bool\n~: null\n2026-01-31: date\n"
        "1001: number\n'1001': text\n\"2026-01-31\": text date\n"
    ),
    # Equal in Python (1 == True == 1.0) but not duplicates in YAML: the first key is kept
    # with the last value, as PyYAML's dict does.
    "keys equal in python": "1: one\ntrue: yes\n1.0: float\nlast: x\n",
    "explicit scalar tags": (
        "str: !!str 12\nint: !!int \"7\"\nfloat: !!float '3'\nnull: !!null ''\n"
        "bool: !!bool 'yes'\nbinary: !!binary aGVsbG8gd29ybGQ=\n"
        "date: !!timestamp '2026-01-31'\nnon-specific: ! 12\n"
        "!!str 13: tagged key\n13: plain key\n"
    ),
    "anchors and aliases": (
        "scalar: &s hello\nseq: &q [1, {a: b}]\nmap: &m\n  a: 1\n  b: [x, y]\n"
        "uses:\n  s: *s\n  q: *q\n  m: *m\n  list: [*s, *q, *m, *m]\n"
        "key: &k shared\nagain: *k\n"
    ),
    "a duplicate key in an aliased mapping": (
        "shared: &shared\n  plan: gold\n  plan: silver\n"
        "customers:\n  - id: a\n    support: *shared\n  - id: b\n    support: *shared\n"
    ),
    "duplicate keys at several depths": (
        "a:\n  x: 1\n  y:\n    - k: 1\n      k: 2\n  x: 3\nb: 1\n"
        "list:\n  - {p: 1, p: 2, p: 3}\n  - [{q: 1, q: 2}]\n"
        "a: {z: 1, z: 2}\n'1': s\n1: i\n\"1\": again\n"
        "tenant: x\n"
    ),
    "flow collections": (
        "a: {b: [1, {c: d}], e: [], f: {}}\ng: [a, 'b', {h: [i, [j]]}]\nk: {l: , m: }\n"
    ),
    "a list at the root": "- a\n- {b: c}\n- [d, e]\n-\n- - nested\n",
    "a scalar at the root": "just text\n",
    "document markers": "%YAML 1.1\n---\ntenant: x\n...\n",
    "empty values": "a:\nb: ''\nc: []\nd: {}\ne: ~\nf:\n  -\n  - x\n  - ''\ng: {h: }\n",
    "multi-line strings": (
        "literal: |\n  one\n   two\n\n  three\nfolded: >\n  one\n  two\n\n  three\n"
        "strip: |-\n  kept\nkeep: >+\n  kept\n\nplain: one\n  two\n"
        "quoted: \"one\n  two \\\n  three\"\nsingle: 'it''s\n\n  here'\ntenant: x\n"
    ),
    "a non-specific tag on a collection": "a: ! {b: 1}\nc: ! [1]\n",
}
# What the event loop leaves to the composer, whose data and messages stay as they were.
UNUSUAL = {
    "an unknown tag": "a: !foo x\n",
    "a non-scalar key": "? [a, b]\n: c\n",
    "a mapping as a key": "? {a: 1}\n: x\nb: 1\n",
    "a flow key": "{[1]: 2}\n",
    "an alias as a key": "a: &k b\n*k : c\n",
    "merge keys in a list": "a: &a {x: 1}\nb: &b {y: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n",
    "a set and an omap": "s: !!set {a, b}\no: !!omap [a: 1, b: 2]\np: !!pairs [a: 1]\n",
    "an explicitly tagged mapping": "a: !!map {b: 1}\nc: !!seq [1]\n",
    "an anchor defined twice": "a: &x 1\nb: &x 2\nc: *x\n",
    "an equals key": "=: 1\n",
    "an equals value": "a: =\n",
    "a bad int": "a: !!int x\n",
    "bad base64": "a: !!binary 'aGVsbG8'\n",
}
TEXTS.update(USUAL)
TEXTS.update(UNUSUAL)
TEXTS["merge keys with lines"] = "a: &a\n  x: 1\nb:\n  <<: *a\n  y: 2\n"


def typed(value: Any, ids: dict[int, int] | None = None) -> Any:
    """``value`` with every type spelt out and shared collections numbered, so that
    ``{1: x}`` differs from ``{True: x}`` and an alias from an equal copy."""
    ids = {} if ids is None else ids
    if isinstance(value, dict | list):
        if id(value) in ids:
            return ("same as", ids[id(value)])
        ids[id(value)] = len(ids)
        if isinstance(value, dict):
            return ("dict", [(typed(k, ids), typed(v, ids)) for k, v in value.items()])
        return ("list", [typed(item, ids) for item in value])
    return (type(value).__name__, repr(value))


def key_paths(value: Any, loc: Loc = (), limit: int = 400) -> list[Loc]:
    """Key paths into ``value`` (and one below each that is not there)."""
    paths: list[Loc] = [(*loc, "missing")]
    if isinstance(value, dict):
        children = [(k if isinstance(k, str | int) else str(k), v) for k, v in value.items()]
    elif isinstance(value, list):
        children = list(enumerate(value))
    else:
        children = []
    for part, child in children:
        if len(paths) >= limit:
            break
        paths.append((*loc, part))
        paths.extend(key_paths(child, (*loc, part), limit - len(paths)))
    return paths


def both_ways(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[tuple[YamlDocument | None, list[Any]], tuple[YamlDocument | None, list[Any]]]:
    fast = parse_yaml(text, "t.yaml")
    with monkeypatch.context() as patched:
        patched.setattr(yamlfile, "_CSafeLoader", None)
        slow = parse_yaml(text, "t.yaml")
    return fast, slow


def assert_same(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    (fast_doc, fast_issues), (slow_doc, slow_issues) = both_ways(text, monkeypatch)
    assert fast_issues == slow_issues
    assert (fast_doc is None) == (slow_doc is None)
    if fast_doc is not None and slow_doc is not None:
        assert typed(fast_doc.data) == typed(slow_doc.data)
        for loc in [("tenant",), *key_paths(slow_doc.data)]:
            assert fast_doc.locate(loc) == slow_doc.locate(loc), loc


@pytest.mark.parametrize("name", list(TEXTS))
def test_libyaml_and_the_pure_python_loader_give_the_same_data_and_problems(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert_same(TEXTS[name], monkeypatch)


@pytest.mark.parametrize("name", list(USUAL))
def test_usual_yaml_is_read_from_libyamls_events(name: str) -> None:
    assert yamlfile._parse_fast(USUAL[name], "t.yaml") is not None


@pytest.mark.parametrize("name", list(UNUSUAL))
def test_unusual_yaml_is_left_to_the_composer(name: str) -> None:
    assert yamlfile._parse_fast(UNUSUAL[name], "t.yaml") is None


def test_duplicate_keys_are_listed_outer_mapping_first_each_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    issues = parse_yaml(USUAL["duplicate keys at several depths"], "t.yaml")[1]
    assert [(i.line, i.key) for i in issues] == [
        (11, "a"),  # the document's own keys first, as the composer's walk finds them
        (14, "1"),  # '1' and "1" are the same text; 1 is an int, a key of its own
        (6, "a.x"),
        (5, "a.y[0].k"),
        (9, "list[0].p"),
        (9, "list[0].p"),
        (10, "list[1][0].q"),
        (11, "a.z"),
    ]
    [issue] = parse_yaml(USUAL["a duplicate key in an aliased mapping"], "t.yaml")[1]
    assert (issue.line, issue.key) == (3, "shared.plan")  # where it is written, once


def test_an_alias_is_the_same_object_as_its_anchors_value() -> None:
    doc, _ = parse_yaml(USUAL["anchors and aliases"], "t.yaml")
    assert doc is not None
    uses = doc.data["uses"]
    assert uses["q"] is doc.data["seq"] and uses["m"] is doc.data["map"]
    assert uses["list"][2] is uses["list"][3] is doc.data["map"]


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


def test_a_merged_key_is_located_where_its_anchor_writes_it() -> None:
    """The tree composed again for a lookup is the one reading left: merge keys' pairs
    moved into the mapping that merges them (PyYAML's constructor does it)."""
    doc, _ = parse_yaml(TEXTS["merge keys with lines"], "t.yaml")
    assert doc is not None and doc.data["b"] == {"x": 1, "y": 2}
    assert doc.locate(("b", "x")) == (2, "b.x")
    assert doc.locate(("b", "y")) == (5, "b.y")


@pytest.mark.parametrize("text", ["flag: !!bool maybe\n", "when: !!timestamp soon\n"])
def test_a_value_that_does_not_fit_its_explicit_tag_is_a_problem_not_a_crash(text: str) -> None:
    doc, [issue] = parse_yaml(text, "t.yaml")
    assert doc is None
    assert issue.file == "t.yaml" and "does not fit its explicit tag" in issue.message
