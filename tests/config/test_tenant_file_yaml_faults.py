"""Issue 18: what PyYAML itself trips on is a problem of the file, at its line.

An impossible unquoted date raised a bare ``ValueError`` (no file, no line, exit 5, a
traceback in the daemon); an alias bomb of a few hundred bytes took the reader to
gigabytes, and deep nesting ended in a ``RecursionError``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from connector.config import load_tenant
from connector.config.yamlfile import MAX_ALIAS_NODES, MAX_DEPTH, parse_yaml
from tests.config.tenant_files import MARKED_UP_AWS, issues_of, write
from tests.core.conftest import run, settings_file

# The small tenant with an unknown profile key and the csv sink's settings added.
BASE = MARKED_UP_AWS.replace("  name: Demo Reseller\n", "  name: Demo Reseller\n  colour: blue\n")
BASE = BASE.replace("  sink: csv\n", "  sink: csv\n  settings:\n    template: xero\n")
# Line numbers in BASE (1-based).
COLOUR_LINE, SETTINGS_LINE, EFFECTIVE_LINE = 4, 10, 15


def bomb(levels: int = 9, width: int = 9) -> str:
    """A "billion laughs": each level an alias list of the previous one."""
    lines = ["    l0: &l0 [" + ", ".join(['"lol"'] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"    l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("day", ["2026-13-01", "2026-02-30", "2026-00-10"])
def test_an_impossible_unquoted_date_is_reported_at_its_line_with_the_files_other_problems(
    tmp_path: Path, day: str
) -> None:
    path = write(tmp_path, BASE.replace("effective: 2026-01-01", f"effective: {day}"))
    issues = issues_of(path)
    found = {(i.line, i.key): i.message for i in issues}
    assert (COLOUR_LINE, "profile.colour") in found  # the rest of the file is still checked
    message = found[(EFFECTIVE_LINE, "pricebooks[0].versions[0].effective")]
    assert f"{day} is not a calendar date" in message
    assert "2026-01-01" in message  # what would be valid


def test_an_impossible_time_zone_is_reported_at_its_line(tmp_path: Path) -> None:
    text = BASE.replace("effective: 2026-01-01", "effective: 2026-01-01 10:00:00 +25:00")
    [*_, issue] = sorted(issues_of(write(tmp_path, text)), key=lambda i: i.line or 0)
    assert (issue.line, issue.key) == (EFFECTIVE_LINE, "pricebooks[0].versions[0].effective")


def test_an_impossible_date_in_free_form_settings_is_kept_as_written(tmp_path: Path) -> None:
    """Plugins' settings are not the core's to judge: the text reaches the plugin."""
    text = BASE.replace("  colour: blue\n", "").replace(
        "    template: xero\n", "    template: xero\n    since: 2026-02-30\n"
    )
    tenant = load_tenant(write(tmp_path, text))
    assert tenant.erp.settings["since"] == "2026-02-30"


def test_check_config_names_the_file_and_line_of_an_impossible_date_and_exits_1(
    tmp_path: Path,
) -> None:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    write(tenants, BASE.replace("effective: 2026-01-01", "effective: 2026-13-01"), "b.yaml")
    result = run("--config", str(settings_file(tmp_path, tenants)), "check-config")
    text = " ".join(result.output.split())
    assert result.exit_code == 1, text
    assert f"b.yaml:{COLOUR_LINE}: profile.colour" in text
    assert f"b.yaml:{EFFECTIVE_LINE}: pricebooks[0].versions[0].effective: 2026-13-01" in text
    assert "month must be in 1..12" in text


def test_an_alias_bomb_in_erp_settings_is_refused_at_its_line_in_bounded_time_and_memory(
    tmp_path: Path,
) -> None:
    """Regression: 9 levels of 9 aliases (9**9 = 387 million values from under 1 kB)
    took check-config to gigabytes. Run in a child process capped at 1 GiB of address
    space and 60 s, so a regression fails this test instead of the machine."""
    text = BASE.replace("    template: xero\n", bomb())
    assert len(text.encode()) < 1200
    path = write(tmp_path, text)
    probe = textwrap.dedent(
        f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from connector.config import ConfigError, load_tenant
        try:
            load_tenant({str(path)!r})
        except ConfigError as exc:
            print(exc)
        """
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert time.monotonic() - started < 30
    bomb_lines = [line for line in done.stdout.splitlines() if "alias" in line]
    assert len(bomb_lines) == 1, done.stdout
    [line] = bomb_lines
    where, _, message = line.partition(": ")
    # l4's aliases of l3 (7,381 values each) are the first to pass the bound.
    assert where == f"{path}:{SETTINGS_LINE + 4}"
    assert f"at most {MAX_ALIAS_NODES:,}" in message and "*l3" in message


def test_an_alias_bomb_is_refused_before_anything_is_built_from_it() -> None:
    started = time.monotonic()
    doc, [issue] = parse_yaml("erp:\n  settings:\n" + bomb(levels=12, width=10), "t.yaml")
    assert doc is None
    assert "aliases" in issue.message and issue.line is not None
    assert time.monotonic() - started < 1


def test_small_aliases_and_merge_keys_still_work(tmp_path: Path) -> None:
    # Unknown top-level keys are refused, so the shared block sits in free-form settings.
    shared = "    shared: &customer {invoice_currency: USD, pricebooks: {aws: aws-std}}\n"
    text = BASE.replace("  colour: blue\n", "").replace(
        "    template: xero\n", "    template: xero\n" + shared
    ) + textwrap.dedent(
        """\
        customers:
          - <<: *customer
            id: "1"
            name: One
          - <<: *customer
            id: "2"
            name: Two
        """
    )
    tenant = load_tenant(write(tmp_path, text))
    assert [(c.id, c.invoice_currency, c.pricebooks) for c in tenant.customers] == [
        ("1", "USD", {"aws": "aws-std"}),
        ("2", "USD", {"aws": "aws-std"}),
    ]


@pytest.mark.parametrize(
    "nesting",
    [
        "[" * 10_000 + "]" * 10_000,
        "{a: " * 10_000 + "}" * 10_000,
    ],
    ids=["flow-lists", "flow-mappings"],
)
def test_nesting_far_too_deep_is_a_config_error_at_its_line_not_a_recursion_error(
    tmp_path: Path, nesting: str
) -> None:
    text = BASE.replace("    template: xero\n", f"    template: xero\n    deep: {nesting}\n")
    started = time.monotonic()
    [issue] = issues_of(write(tmp_path, text))
    assert time.monotonic() - started < 2
    assert issue.line == SETTINGS_LINE + 1
    assert f"more than {MAX_DEPTH} levels deep" in issue.message


def test_block_nesting_far_too_deep_is_a_config_error(tmp_path: Path) -> None:
    deep = "".join(" " * (6 + 2 * i) + f"k{i}:\n" for i in range(2 * MAX_DEPTH))
    text = BASE.replace("    template: xero\n", "    template: xero\n    deep:\n" + deep)
    [issue] = issues_of(write(tmp_path, text))
    assert f"more than {MAX_DEPTH} levels deep" in issue.message
    assert issue.line is not None and SETTINGS_LINE < issue.line < SETTINGS_LINE + MAX_DEPTH + 2


def test_aliases_that_nest_too_deep_together_are_refused_at_the_alias() -> None:
    chain = "a0: &a0 " + "[" * 40 + "]" * 40 + "\n" + "a1: &a1 [[[[[[[[[[[*a0]]]]]]]]]]]\n"
    _, [issue] = parse_yaml(chain, "t.yaml")
    assert issue.line == 2 and "*a0" in issue.message


def test_an_alias_inside_its_own_block_is_refused_at_its_line() -> None:
    _, [issue] = parse_yaml("erp:\n  settings:\n    loop: &loop [1, *loop]\n", "t.yaml")
    assert issue.line == 3
    assert "*loop is inside the block it refers to" in issue.message
