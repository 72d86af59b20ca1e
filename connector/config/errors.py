"""Configuration problems, reported all at once with file, line and key."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in one configuration file.

    :param file: the file as the operator named it (or ``<environment>``).
    :param line: 1-based line in ``file``, or ``None`` when no line applies.
    :param key: dotted path of the offending key, e.g. ``customers[2].accounts.aws[0]``;
        empty for problems of the whole file.
    :param message: what is wrong and, where possible, what would be valid.
    """

    file: str
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigError(Exception):
    """One or more configuration problems; ``str()`` lists one per line."""

    def __init__(self, issues: Iterable[ConfigIssue]) -> None:
        self.issues: list[ConfigIssue] = sorted(
            issues, key=lambda i: (i.file, i.line if i.line is not None else 0, i.key)
        )
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(issue) for issue in self.issues)
