"""The date ranges a billing report is asked for: month to date, last month, a month, dates."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from connector.contracts import BillingPeriod
from connector.domain.periods import month_period

RANGE_HELP = "month-to-date (default), last-month, YYYY-MM, or FROM..TO as YYYY-MM-DD..YYYY-MM-DD"
_MONTH = re.compile(r"^\d{4}-\d{2}$")
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class DateRange:
    """Days ``first`` to ``last``, both included; ``label`` is what was asked for."""

    first: dt.date
    last: dt.date
    label: str

    def covers(self, period: BillingPeriod) -> bool:
        """Whether every day of ``period`` (half-open) is in the range."""
        return self.first <= period.start and period.end - ONE_DAY <= self.last

    def overlaps(self, period: BillingPeriod) -> bool:
        return period.start <= self.last and self.first < period.end


def _date(text: str, whole: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"range {whole!r} is not valid: use {RANGE_HELP}") from None


def parse_range(text: str | None, today: dt.date) -> DateRange:
    """The range ``text`` names, relative to ``today``; ValueError says what is valid."""
    spec = (text or "month-to-date").strip()
    if spec == "month-to-date":
        return DateRange(today.replace(day=1), today, spec)
    if spec == "last-month":
        last = today.replace(day=1) - ONE_DAY
        return DateRange(last.replace(day=1), last, spec)
    if _MONTH.match(spec):
        year, month = int(spec[:4]), int(spec[5:])
        if not 1 <= month <= 12:
            raise ValueError(f"range {spec!r} is not valid: use {RANGE_HELP}")
        period = month_period(year, month)
        return DateRange(period.start, period.end - ONE_DAY, spec)
    if ".." in spec:
        first_text, _, last_text = spec.partition("..")
        first, last = _date(first_text.strip(), spec), _date(last_text.strip(), spec)
        if last < first:
            raise ValueError(f"range {spec!r} ends before it starts: give FROM..TO with FROM first")
        return DateRange(first, last, spec)
    raise ValueError(f"range {spec!r} is not valid: use {RANGE_HELP}")
