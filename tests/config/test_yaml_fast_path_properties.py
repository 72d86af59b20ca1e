"""Whatever YAML ``yaml.safe_dump`` writes, libyaml's events and the pure-Python
loader read the same data, the same duplicate keys and the same lines.

The event loop rebuilds what PyYAML's composer and constructor do (resolving, tags,
aliases, duplicate keys, their key paths and order); generated data in every dump
style finds the corners the hand-written texts of test_yaml_fast_path miss.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.config import yamlfile
from tests.config.test_yaml_fast_path import assert_same

pytestmark = pytest.mark.skipif(
    yamlfile._CSafeLoader is None, reason="PyYAML here is built without libyaml"
)

# Printable text: both readers refuse the same control characters, and a dump quotes
# what needs quoting; keys and values such as "1", "yes", "~" and "2026-01-01" as text.
TEXT = st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")), max_size=12)
LOOKALIKES = st.sampled_from(["1", "0o7", "0x1F", "1_000", "1:30", "yes", "Off", "~", "null", ""])
SCALARS = st.one_of(
    TEXT,
    LOOKALIKES,
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.dates(min_value=dt.date(1, 1, 1)),
)
KEYS = st.one_of(TEXT, LOOKALIKES, st.integers(-1000, 1000), st.booleans(), st.dates())
DATA = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=30,
)
STYLES = st.fixed_dictionaries(
    {
        "default_flow_style": st.sampled_from([False, True, None]),
        "default_style": st.sampled_from([None, '"', "'"]),
        "indent": st.sampled_from([2, 4]),
        "width": st.sampled_from([20, 80]),
        "allow_unicode": st.booleans(),
        "explicit_start": st.booleans(),
    }
)


def dump(data: Any, style: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, **style)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=DATA, style=STYLES)
def test_any_dumped_data_reads_the_same_both_ways(data: Any, style: dict[str, Any]) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert_same(dump(data, style), monkeypatch)


CONTAINERS = st.one_of(
    st.lists(DATA, min_size=1, max_size=3), st.dictionaries(KEYS, DATA, min_size=1, max_size=3)
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shared=CONTAINERS, other=DATA, style=STYLES)
def test_data_written_with_anchors_and_aliases_reads_the_same_both_ways(
    shared: Any, other: Any, style: dict[str, Any]
) -> None:
    """``safe_dump`` writes a value met twice as an anchor and aliases."""
    data = {"one": shared, "two": [other, shared, {"three": shared}]}
    text = dump(data, style)
    assert "*id001" in text
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert_same(text, monkeypatch)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=st.dictionaries(KEYS, DATA, min_size=1, max_size=4),
    second=st.dictionaries(KEYS, DATA, min_size=1, max_size=4),
)
def test_mappings_written_one_after_the_other_report_the_same_duplicate_keys(
    first: dict[Any, Any], second: dict[Any, Any]
) -> None:
    """Two block mappings one after the other are one mapping, with any key they share
    a duplicate: here in a list, one level down and at the top of the document."""
    pair = dump(first, {"default_flow_style": False}) + dump(second, {"default_flow_style": False})
    indented = textwrap.indent(pair, "  ")
    text = "list:\n- " + indented[2:] + "outer:\n" + indented + pair
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert_same(text, monkeypatch)
