"""An automated accessibility check for the browser tests: axe-core, run in the page.

``assert_accessible(page)`` injects the vendored ``vendor/axe.min.js`` (axe-core from the
npm registry, MPL-2.0: see vendor/README.md) and fails naming every serious or critical
violation, its rule, help and the offending elements. The app's pages allow only their
own scripts (Content-Security-Policy ``script-src 'self'``), so the injected script runs
only in a browser context made with ``bypass_csp=True``; the check says so when it cannot
run rather than passing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).with_name("vendor") / "axe.min.js"
BLOCKING = ("serious", "critical")


def violations(page: Any, impacts: tuple[str, ...] = BLOCKING) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now, those of the given impacts."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        raise AssertionError(
            f"axe-core did not load into {page.url}: make the browser context with "
            "bypass_csp=True (the page's Content-Security-Policy blocks injected scripts)"
        )
    result = page.evaluate("axe.run()")
    return [v for v in result["violations"] if v.get("impact") in impacts]


def assert_accessible(page: Any, impacts: tuple[str, ...] = BLOCKING) -> None:
    """Fail when axe-core finds a violation of the given impacts (serious, critical)."""
    found = violations(page, impacts)
    lines = [
        f"{v['impact']} {v['id']}: {v['help']} ({v['helpUrl']})\n"
        + "\n".join(f"    {' '.join(map(str, n['target']))}" for n in v["nodes"][:5])
        for v in found
    ]
    assert not found, f"accessibility violations on {page.url}:\n" + "\n".join(lines)
