"""Issue 19's hostile inputs: named values every stage of the connector must survive.

Each entry is ``(name, value)``; the name is the test id. A stage survives an input by
refusing it with a clear error or by producing output in which it is inert (CSV cells
neutralised, HTML/XML escaped, files only inside the configured folders, no code run).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

# A file the template injections below would create if a template engine evaluated them.
MARKER = Path(tempfile.gettempdir()) / "billing-connector-hostile-corpus-PWNED"

FORMULAS = [
    ("formula-hyperlink", '=HYPERLINK("http://evil.example","x")'),
    ("formula-plus", "+1+1"),
    ("formula-minus", "-2+3"),
    ("formula-at", "@SUM(A1)"),
    ("formula-tab", "\t=1"),
]
MARKUP = [
    ("html-script", "<script>alert(1)</script>"),
    ("html-entity", "&amp;"),
    ("xml-cdata-end", "]]>"),
    ("quotes", "\"'"),
]
CONTROL = [
    ("nul", "a\x00b"),
    ("ansi-escape", "\x1b[31m"),
]
LONG = [("long-10k", "A" * 10_000)]
TEMPLATES = [
    ("jinja-globals-id", "{{ cycler.__init__.__globals__.os.popen('id').read() }}"),
    (
        "jinja-globals-marker",
        "{{ cycler.__init__.__globals__.os.popen('touch " + str(MARKER) + "').read() }}",
    ),  # fmt: skip
    ("jinja-raw", "{% raw %}"),
    ("format-attr", "{number.__class__.__init__.__globals__}"),
]
PATHS = [
    ("traversal-posix", "../../../../tmp/ESCAPED"),
    ("traversal-windows", "..\\..\\x"),
    ("absolute-etc-passwd", "/etc/passwd"),
    ("absolute-windows-drive", "C:\\x"),
]

# Values that end up as names, ids and free text.
TEXT = FORMULAS + MARKUP + CONTROL + LONG + TEMPLATES + PATHS

# Amounts in provider files: non-finite and out-of-range ones must be refused; a
# negative one (a refund) is legitimate and may be accepted.
AMOUNTS = [
    ("nan", "NaN"),
    ("infinity", "Infinity"),
    ("minus-infinity", "-Infinity"),
    ("overflow-1e400", "1e400"),
    ("negative", "-5.00"),
]
NON_FINITE = {"NaN", "Infinity", "-Infinity", "1e400"}

# Whole tenant-file fragments: the ``erp:`` section with an alias bomb in its settings,
# and a customer name nested far deeper than any tenant file needs.
_LAUGHS = ["a: &a [x, x, x, x, x, x, x, x, x, x]"] + [
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}]"
    for i in range(8)
]
ALIAS_BOMB_ERP = (
    "erp:\n  sink: csv\n  settings:\n"
    + "".join(f"    {line}\n" for line in _LAUGHS)
    + "    template: xero\n    output_dir: erp\n"
)
DEEP_FLOW = "[" * 50_000 + "]" * 50_000
DEEP_BLOCK = "".join("  " * i + f"k{i}:\n" for i in range(3_000)) + "  " * 3_000 + "v\n"
YAML_BOMBS = [
    ("alias-bomb-erp-settings", ALIAS_BOMB_ERP),
    ("deep-flow-nesting", f"invoice_options:\n  custom_fields: {DEEP_FLOW}\n"),
    (
        "deep-block-nesting",
        "invoice_options:\n  custom_fields:\n"
        + "".join("    " + line + "\n" for line in DEEP_BLOCK.splitlines()),
    ),
]


def ids(entries: list[tuple[str, str]]) -> list[str]:
    return [name for name, _ in entries]
