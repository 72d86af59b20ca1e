"""Reading a large tenant file holds its data, not a YAML node tree (issue 24).

A distributor's tenant file of 20,000 customers peaked at 350 MB RSS when it was
composed into PyYAML nodes (a node and two marks per value) and the tree was kept for
error messages. The data is now built from libyaml's events, and the tree is composed
again only when a problem's line is looked up.
"""

from __future__ import annotations

import gc
import pickle
import tracemalloc
from typing import Any

import pytest
import yaml

from connector.config import yamlfile
from connector.config.yamlfile import parse_yaml

pytestmark = pytest.mark.skipif(
    yamlfile._CSafeLoader is None, reason="PyYAML here is built without libyaml"
)

CUSTOMERS = 2_000


def tenant_text(customers: int) -> str:
    parts = ["tenant: distributor\nprofile:\n  name: Distributor\ncustomers:\n"]
    for i in range(customers):
        parts.append(
            f"- id: C{i:06d}\n"
            f"  name: Customer {i} Ltd\n"
            "  invoice_currency: USD\n"
            "  pricebooks:\n    aws: aws-standard\n    azure: azure-standard\n"
            f"  accounts:\n    aws:\n    - '{100000000000 + i * 7919}'\n"
            f"    azure:\n    - 00000000-0000-4000-8000-{i:012d}\n"
            f"  since: 2026-01-01\n  credit: 12.50\n  seats: {i % 40}\n"
        )
    return "".join(parts)


def traced(build: Any) -> tuple[Any, int, int]:
    """What ``build()`` returns, the bytes it still holds and its peak, traced."""
    gc.collect()
    tracemalloc.start()
    try:
        result = build()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, held, peak


def nodes_alive() -> int:
    gc.collect()
    return sum(isinstance(o, yaml.Node) for o in gc.get_objects())


def test_reading_a_large_tenant_file_peaks_near_the_size_of_its_data() -> None:
    text = tenant_text(CUSTOMERS)
    (doc, issues), _, peak = traced(lambda: parse_yaml(text, "big.yaml"))
    assert issues == [] and doc is not None
    assert len(doc.data["customers"]) == CUSTOMERS
    # The same data built again from a pickle: what the values alone take.
    blob = pickle.dumps(doc.data)
    _, data_size, _ = traced(lambda: pickle.loads(blob))
    assert peak < 2 * data_size, f"peak {peak:,} bytes for {data_size:,} bytes of data"


def test_no_node_tree_is_kept_until_a_line_is_looked_up() -> None:
    text = tenant_text(200) + "tenant: again\n"
    before = nodes_alive()
    doc, [duplicate] = parse_yaml(text, "big.yaml")
    assert doc is not None
    assert nodes_alive() == before
    last = doc.data["customers"][-1]["accounts"]["aws"][0]
    line = text.splitlines().index(f"    - '{last}'") + 1
    assert doc.locate(("customers", 199, "accounts", "aws", 0)) == (
        line,
        "customers[199].accounts.aws[0]",
    )
    assert nodes_alive() > before + 200  # composed for the lookup, and kept for the next
    assert (duplicate.line, duplicate.key) == (len(text.splitlines()), "tenant")
