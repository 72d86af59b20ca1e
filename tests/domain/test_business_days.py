"""Business days follow the country's own weekend (issue 23), not Monday to Friday."""

from __future__ import annotations

import datetime as dt

import pytest

from connector.domain.business_days import closes_on

OCTOBER_END = dt.date(2026, 11, 1)  # exclusive: October 2026 ends on Saturday the 31st


@pytest.mark.parametrize(
    ("country", "days", "closes"),
    [
        # Saturday-Sunday weekend: Mon 2, Tue 3 November.
        ("US", 2, dt.date(2026, 11, 3)),
        ("GB", 2, dt.date(2026, 11, 3)),
        # Friday-Saturday weekend: Sunday 1 November is worked, so Sun 1, Mon 2.
        ("SA", 2, dt.date(2026, 11, 2)),
        ("IL", 2, dt.date(2026, 11, 2)),
        # Five days in Saudi Arabia: Sun 1 to Thu 5 (Friday 6 is its weekend).
        ("SA", 5, dt.date(2026, 11, 5)),
        # ... and in the US: Mon 2 to Fri 6.
        ("US", 5, dt.date(2026, 11, 6)),
        # Six: the US skips its weekend to Monday 9; Saudi Arabia skips Fri 6, Sat 7.
        ("US", 6, dt.date(2026, 11, 9)),
        ("SA", 6, dt.date(2026, 11, 8)),
    ],
)
def test_the_close_counts_the_countrys_working_days(
    country: str, days: int, closes: dt.date
) -> None:
    assert closes_on(OCTOBER_END, days, country) == closes


def test_a_day_count_of_zero_closes_on_the_last_day() -> None:
    assert closes_on(OCTOBER_END, 0, "SA") == dt.date(2026, 10, 31)
