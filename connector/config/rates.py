"""The tenant's exchange-rates file: one rate per period and currency pair.

A CSV with the header ``period,from,to,rate``, for example::

    period,from,to,rate
    2026-10,USD,EUR,0.9215
    2026-10,USD,GBP,0.7894

``period`` is the statement period (``YYYY-MM`` of its start); the rate converts one
unit of ``from`` (the provider's billing currency) into ``to`` (the customer's invoice
currency). Every problem is reported at once, with the file and line.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from connector.config.errors import ConfigError, ConfigIssue
from connector.config.tenant import TenantConfig
from connector.domain.currency import NO_RATES, ExchangeRates

HEADER = ["period", "from", "to", "rate"]
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _problems(row: dict[str, str]) -> list[str]:
    problems = []
    if not _PERIOD.match(row["period"]):
        problems.append(f"period {row['period']!r} is not YYYY-MM (e.g. 2026-10)")
    for column in ("from", "to"):
        if not _CURRENCY.match(row[column]):
            problems.append(f"{column} {row[column]!r} is not an ISO 4217 code like USD")
    try:
        rate = Decimal(row["rate"])
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or rate <= 0:
        problems.append(f"rate {row['rate']!r} is not a positive decimal number like 0.9215")
    return problems


def load_rates(path: Path) -> ExchangeRates:
    """The rates in ``path``; :class:`ConfigError` lists every bad line."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(
            [ConfigIssue(name, None, "", f"cannot read the exchange rates file: {exc.strerror}")]
        ) from None
    reader = csv.reader(text.splitlines())
    header = [h.strip().lower() for h in next(reader, [])]
    if header != HEADER:
        raise ConfigError(
            [ConfigIssue(name, 1, "", f"the header must be {','.join(HEADER)}, not {header}")]
        )
    rates: dict[tuple[str, str, str], Decimal] = {}
    first_line: dict[tuple[str, str, str], int] = {}
    issues = []
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(HEADER):
            issues.append(ConfigIssue(name, line, "", f"expected 4 values, found {len(values)}"))
            continue
        row = dict(zip(HEADER, (v.strip() for v in values), strict=True))
        problems = _problems(row)
        issues.extend(ConfigIssue(name, line, "", problem) for problem in problems)
        if problems:
            continue
        key = (row["period"], row["from"], row["to"])
        if key in rates:
            issues.append(
                ConfigIssue(
                    name, line, "", f"a second rate for {' '.join(key)} (first on line "
                    f"{first_line[key]}); keep one"
                )
            )  # fmt: skip
            continue
        rates[key], first_line[key] = Decimal(row["rate"]), line
    if issues:
        raise ConfigError(issues)
    return ExchangeRates(rates, source=name)


def tenant_rates(config: TenantConfig) -> ExchangeRates:
    """The tenant's ``exchange_rates`` file, or no rates when it names none."""
    path = config.exchange_rates_path
    return NO_RATES if path is None else load_rates(path)
