"""The small valid tenant file the config tests start from, and how they write and read it.

Test files add to :data:`MARKED_UP_AWS` or edit it with ``str.replace``; the line numbers
they assert are 1-based and count from its first line.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from connector.config import ConfigError, load_tenant
from connector.config.errors import ConfigIssue

# One provider priced with a 10% markup, exported as CSV: "percent: 10" is line 15.
MARKED_UP_AWS = """\
tenant: demo
profile:
  name: Demo Reseller
providers:
  aws: {}
erp:
  sink: csv
pricebooks:
  - id: aws-std
    provider: aws
    versions:
      - effective: 2026-01-01
        rules:
          - adjust: markup
            percent: 10
"""


def write(folder: Path, text: str, name: str = "tenant.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def issues_of(path: Path, **kwargs) -> list[ConfigIssue]:
    """The issues of a tenant file that must not load."""
    with pytest.raises(ConfigError) as caught:
        load_tenant(path, **kwargs)
    return caught.value.issues
