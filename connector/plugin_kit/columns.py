"""Matching a file's column names to the columns a provider reads.

A provider declares the columns it reads as :class:`Column` values: the names an export
may give the column (the first found wins), the alias its SQL and messages use, a kind,
and whether the column must be there (``required``) and hold a value on every row
(``not_empty``). :func:`locate` finds them among a header's names, case-insensitively,
so that spellings such as EA's ``CostInBillingCurrency`` and MCA's
``costInBillingCurrency`` are one column. :func:`check_required` refuses a header that
lacks required columns, saying what the file looks like when it is another known export
(:func:`connector.plugin_kit.file_formats.looks_like`) and naming every missing column
at once. :func:`match_header` does all three for one file and gives a
:class:`FileHeader`, which names a column as that file spells it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from connector.contracts import SourceDataError
from connector.plugin_kit.file_formats import looks_like, unrecognised
from connector.plugin_kit.files import is_parquet


@dataclass(frozen=True, slots=True)
class Column:
    """One column a provider reads: its accepted names, SQL alias and kind."""

    names: tuple[str, ...]
    alias: str
    kind: str = "text"
    required: bool = False
    not_empty: bool = False

    @property
    def name(self) -> str:
        """The column's usual name (the first accepted one)."""
        return self.names[0]

    @property
    def label(self) -> str:
        """Every accepted name, for messages: ``CostInBillingCurrency / Cost``."""
        return " / ".join(self.names)


@dataclass(frozen=True, slots=True)
class Expected:
    """The export a provider expects, as :func:`check_required` names it.

    :param format: the :mod:`~connector.plugin_kit.file_formats` name of the export
        (``FOCUS``), which a header looking like it is not refused as another export's;
        empty for an export the kit does not know.
    :param export: what the file should be, e.g. ``"a FOCUS export"``.
    :param header: what its header is called, e.g. ``"a FOCUS header"``.
    :param example: the export whose columns a header we do not recognise lacks, e.g.
        ``"a FOCUS 1.0-1.2 export"``.
    :param provider: the provider's name, for "move it out of the X provider's folder".
    :param item: what a column is called (``"field"`` for JSON records).
    :param must: what "must have all of" the required columns (default: ``export``).
    :param header_where: where the header is in "<where> is not <header>" (default: the
        ``where`` given to :func:`check_required`).
    """

    format: str
    export: str
    header: str
    example: str
    provider: str
    item: str = "column"
    must: str = ""
    header_where: str = ""


def first_positions(names: Iterable[str], *, fold: bool = True) -> dict[str, int]:
    """Each name's first position in ``names``, by name (casefolded with ``fold``).

    A real export can repeat a column (tag columns differing only by case): the first wins.
    """
    first: dict[str, int] = {}
    for index, name in enumerate(names):
        first.setdefault(name.casefold() if fold else name, index)
    return first


def locate(names: Sequence[str], columns: Iterable[Column]) -> dict[str, int]:
    """alias -> 0-based position of each of ``columns`` found in ``names`` (the first of
    its accepted names found, in any case); columns not found are left out."""
    first = first_positions(names)
    positions: dict[str, int] = {}
    for column in columns:
        for candidate in column.names:
            if candidate.casefold() in first:
                positions[column.alias] = first[candidate.casefold()]
                break
    return positions


def check_required(
    path: Path,
    names: Sequence[str],
    found: Mapping[str, object],
    columns: Iterable[Column],
    expected: Expected,
    where: str = "line 1 (the header)",
) -> None:
    """Raise :class:`SourceDataError` when a required one of ``columns`` is not among
    ``found`` (by alias).

    The message says what the file looks like when it is another known export, says it
    is no header we know when it has none of the required columns, and otherwise names
    every missing column and every required one.

    :param where: where the names are, e.g. ``"line 1 (the header)"`` or ``"its schema"``.
    """
    required = [column for column in columns if column.required]
    missing = [column.label for column in required if column.alias not in found]
    if not missing:
        return
    kind = looks_like(names)
    if kind is not None and kind != expected.format:
        raise SourceDataError(
            f"{path}: this looks like {kind}, not {expected.export}; move it out of the "
            f"{expected.provider} provider's folder (or narrow its pattern)"
        )
    if len(missing) == len(required):
        raise SourceDataError(
            f"{path}: {expected.header_where or where} is not {expected.header}: "
            f"{unrecognised(names, expected.example, missing)}"
        )
    raise SourceDataError(
        f"{path}: {where} lacks the required {expected.item}(s) {', '.join(missing)}; "
        f"{expected.must or expected.export} must have all of "
        f"{', '.join(column.label for column in required)} (names match in any case)"
    )


@dataclass(frozen=True, slots=True)
class FileHeader:
    """One file's header: every column's name, and where each column read is.

    :param positions: alias -> 0-based position; absent optional columns are missing.
    :param columns: the columns the provider reads (names the absent ones).
    """

    path: Path
    names: tuple[str, ...]
    positions: dict[str, int]
    columns: tuple[Column, ...] = field(repr=False, compare=False)

    @property
    def parquet(self) -> bool:
        """Whether the file is read as Parquet (its names come from its schema)."""
        return is_parquet(self.path)

    def has(self, alias: str) -> bool:
        """Whether the file has the column ``alias``."""
        return alias in self.positions

    def column_name(self, alias: str) -> str:
        """The column's name as the file spells it (for messages); its usual name when
        the file lacks it."""
        position = self.positions.get(alias)
        if position is not None:
            return self.names[position]
        return next(column.name for column in self.columns if column.alias == alias)


def match_header(
    path: Path, names: Sequence[object], columns: tuple[Column, ...], expected: Expected
) -> FileHeader:
    """Locate ``columns`` among a file's column ``names`` (stripped) and return its
    :class:`FileHeader`, or raise :class:`SourceDataError` as :func:`check_required` does
    (naming line 1, or a Parquet file's schema)."""
    stripped = tuple(str(name).strip() for name in names)
    positions = locate(stripped, columns)
    where = "its schema" if is_parquet(path) else "line 1 (the header)"
    check_required(path, stripped, positions, columns, expected, where)
    return FileHeader(path=path, names=stripped, positions=positions, columns=columns)
