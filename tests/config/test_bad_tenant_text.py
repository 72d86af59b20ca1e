"""Badly formed text in a tenant file is refused at its line saying what would be valid,
not with pydantic's regular expression or a Python repr."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.tenant_files import MARKED_UP_AWS, issues_of, write

# MARKED_UP_AWS with invoice options after its profile: "locale" is on line 5.
WITH_LOCALE = MARKED_UP_AWS.replace(
    "providers:\n", "invoice_options:\n  locale: LOCALE\nproviders:\n", 1
)


@pytest.mark.parametrize("locale", ["english", "EN_gb", "de-DE"])
def test_a_malformed_locale_names_valid_examples_not_a_pattern(tmp_path: Path, locale: str) -> None:
    """Was: "String should match pattern '^[a-z]{2,3}(_[A-Z][a-z]{3})?...'"."""
    [issue] = issues_of(write(tmp_path, WITH_LOCALE.replace("LOCALE", locale)))
    assert (issue.line, issue.key) == (5, "invoice_options.locale")
    assert "pattern" not in issue.message and "^[a-z]" not in issue.message, issue.message
    assert "en_GB" in issue.message and repr(locale) in issue.message, issue.message


def test_a_date_with_a_time_shows_the_value_as_written(tmp_path: Path) -> None:
    """Was: "got datetime.datetime(2026, 1, 1, 10, 0)"."""
    text = MARKED_UP_AWS.replace("effective: 2026-01-01", "effective: 2026-01-01 10:00:00")
    [issue] = issues_of(write(tmp_path, text))
    assert issue.key == "pricebooks[0].versions[0].effective"
    assert "datetime.datetime" not in issue.message, issue.message
    assert "2026-01-01 10:00:00" in issue.message, issue.message
