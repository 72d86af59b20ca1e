"""Finding a provider's export files, opening them (gzip-aware) and reading their headers.

A provider that reads a folder of exports finds them with :func:`find_files`, then reads
each file's header with
:func:`read_csv_header` (CSV, gzip'ed or not) or :func:`read_parquet_header`, which also
refuse what is not a complete export: an empty file, a file that is no (gzip'ed) UTF-8
CSV, a header with nothing after it, a plain CSV cut off in its last row
(:func:`connector.plugin_kit.file_formats.check_csv_end`), a Parquet file without its
footer. Checking the columns is the provider's part: it passes
a ``parse`` function, whose errors come before "no data rows" (a wrong file is named as
such, not as an empty one).

Messages start with the file's name and say what would be valid; a :class:`Wording`
holds the words that differ between exports.

:class:`ExportsProvider` does the finding for a provider: its :class:`ExportFiles` say
which files are its exports and how to read a header, and it hands the headers, with
what Azure-style manifests list, to the provider's ``read``; it refuses two files holding
the same bytes (:func:`refuse_identical_copies`), which would bill every row twice.
"""

from __future__ import annotations

import csv
import gzip
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, TypeVar

from connector.contracts import BillingPeriod, ChargeBatch, SourceDataError
from connector.plugin_kit.file_formats import (
    ManifestBlob,
    check_azure_manifests,
    check_csv_end,
    check_has_data_row,
)
from connector.plugin_kit.settings import FolderProvider

# What reading a cut-off or corrupt .gz file raises.
GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
# Real headers, with every tag column, stay far below 4 MiB.
MAX_HEADER_BYTES = 1 << 22

GZIP_MISNAMED = "the file is gzip-compressed but its name does not end in .gz; rename it"

Header = TypeVar("Header")


@dataclass(frozen=True, slots=True)
class Wording:
    """The words the kit's messages use for one provider's export.

    The kit starts each message with the file's name; these finish it. Placeholders:
    ``{error}`` (the gzip or DuckDB error), ``{where}`` (``"after line 7 "`` or nothing),
    ``{detail}`` (DuckDB's first line).

    :param what: the export's name, e.g. ``"a FOCUS export"`` ("... has at least one row").
    :param empty: after "the file is empty; ": what its first line looks like.
    :param encoding: after "line 7 is not UTF-8 text (byte 3 of the line); ".
    :param not_text: when line 1 is not UTF-8 text (default: "line 1 is not UTF-8 text;
        " and ``encoding``).
    :param header_gzip: gzip data that fails before the end of line 1.
    :param damaged_gzip: gzip data that fails further on.
    :param row: what a row is called in "every row needs one value per column".
    :param sniff: name a misnamed gzip or Parquet file as such when line 1 is not text.
    :param parquet_misnamed: that sentence for a Parquet file.
    :param damage_first: report a bad row of a ``.gz`` file as the damage it comes from
        when the stream does not read to its end (damaged gzip data can decompress to
        garbage before the stream fails its check).
    :param parquet_unreadable: a Parquet file DuckDB cannot read.
    """

    what: str
    empty: str
    encoding: str
    not_text: str = ""
    header_gzip: str = (
        "the gzip data is cut off or corrupt before the end of line 1 ({error}); a .csv.gz "
        "export must be gzip-compressed CSV: download it again"
    )
    damaged_gzip: str = (
        "the gzip data is cut off or corrupt {where}({error}); download the export again "
        "(nothing from it was ingested)"
    )
    row: str = "row"
    sniff: bool = True
    parquet_misnamed: str = (
        "this is a Parquet file but its name does not end in .parquet; rename it"
    )
    damage_first: bool = False
    parquet_unreadable: str = (
        "not a readable Parquet file ({detail}); it may be cut off or corrupt: download it again"
    )


def is_gzip(path: Path) -> bool:
    """Whether ``path`` is read as gzip: decided by its name, as DuckDB does."""
    return path.name.lower().endswith(".gz")


def is_parquet(path: Path) -> bool:
    """Whether ``path`` is read as Parquet: decided by its name."""
    return path.name.lower().endswith(".parquet")


def find_files(
    folder: Path,
    pattern: str,
    suffixes: Sequence[str],
    not_a_folder: str,
    refused: Mapping[str, str] | None = None,
) -> list[Path]:
    """The files below ``folder`` matching the glob ``pattern`` whose names end in one of
    ``suffixes`` (any case), sorted by path.

    :param not_a_folder: after "<folder>: " when ``folder`` is not a folder: which
        setting names it.
    :param refused: suffix -> why a matching file with that suffix is refused (raised
        after "<file>: "), for files that skipping would silently leave unbilled.
    """
    if not folder.is_dir():
        raise SourceDataError(f"{folder}: {not_a_folder}")
    found = []
    for path in folder.glob(pattern):
        if not path.is_file():
            continue
        name = path.name.lower()
        for suffix, reason in (refused or {}).items():
            if name.endswith(suffix):
                raise SourceDataError(f"{path}: {reason}")
        if name.endswith(tuple(suffixes)):
            found.append(path)
    return sorted(found, key=lambda p: p.as_posix())


def refuse_identical_copies(paths: Sequence[Path], what: str) -> None:
    """Raise :class:`SourceDataError` when two of ``paths`` hold the same bytes.

    A copy of an export under another name (a browser's ``export (1).csv``, a sync
    tool's copy, the legacy CUR's current version both in its period folder and in its
    assembly folder) would bill every row twice. Only files of equal size are hashed.
    Checked before any row is read, so nothing is ingested.
    """
    by_size: dict[int, list[Path]] = {}
    for path in paths:
        by_size.setdefault(path.stat().st_size, []).append(path)
    for size, same_size in by_size.items():
        if len(same_size) < 2 or not size:  # empty files are refused as such
            continue
        from connector.plugin_kit.scratch import file_digest  # scratch imports this module

        seen: dict[str, Path] = {}
        for path in same_size:
            first = seen.setdefault(file_digest(path), path)
            if first != path:
                raise SourceDataError(
                    f"{path} holds the same bytes as {first}: a copy of {what} under another "
                    f"name would be billed twice; remove one of them (or narrow the "
                    f"provider's pattern): nothing was ingested"
                )


def open_binary(path: Path) -> BinaryIO:
    """Open a file's bytes, decompressing ``.gz`` files."""
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")  # type: ignore[return-value]  # noqa: SIM115


def not_text_reason(path: Path, wording: Wording) -> str:
    """Why line 1 of ``path`` is not text: a gzip or Parquet file under another name (when
    ``wording.sniff``), else ``wording.not_text``."""
    if wording.sniff:
        with open(path, "rb") as raw:
            start = raw.read(4)
        if start.startswith(GZIP_MAGIC) and not is_gzip(path):
            return GZIP_MISNAMED
        if start == PARQUET_MAGIC:
            return wording.parquet_misnamed
    return wording.not_text or f"line 1 is not UTF-8 text; {wording.encoding}"


def read_csv_header(
    path: Path, parse: Callable[[list[str]], Header], wording: Wording, shown: str = ""
) -> Header:
    """Read line 1 of a CSV file (gzip'ed when named ``.gz``) and return ``parse(names)``.

    Raises :class:`SourceDataError` for gzip data that fails before the end of line 1,
    a line 1 that is not UTF-8 text or not CSV, an empty file, and a file with nothing
    after its header; and for a plain file whose last row is cut off (see
    :func:`~connector.plugin_kit.file_formats.check_csv_end`; a ``.gz`` file's trailer
    proves it whole, which DuckDB checks). Only line 1 is decoded, so a bad byte further
    down is reported by the row checks with its own line number.

    :param parse: checks the column names (raising for a wrong file) and returns the
        provider's header.
    :param shown: how messages name the file (default: its path).
    """
    shown = shown or str(path)
    no_rows: SourceDataError | None = None
    try:
        with open_binary(path) as raw:
            first = raw.readline(MAX_HEADER_BYTES)
            if is_gzip(path):
                try:  # a plain file's end is checked below, from its last bytes
                    check_has_data_row(raw, shown, wording.what)
                except SourceDataError as exc:
                    no_rows = exc
        names = next(csv.reader([first.decode("utf-8-sig")], strict=True), None)
    except GZIP_ERRORS as exc:
        raise SourceDataError(f"{shown}: " + wording.header_gzip.format(error=exc)) from None
    except UnicodeDecodeError:
        raise SourceDataError(f"{shown}: {not_text_reason(path, wording)}") from None
    except csv.Error as exc:
        raise SourceDataError(f"{shown}: line 1 is not CSV ({exc})") from None
    if not names or not any(n.strip() for n in names):
        raise SourceDataError(f"{shown}: the file is empty; {wording.empty}")
    header = parse(names)
    if no_rows is not None:
        raise no_rows
    if not is_gzip(path):
        check_csv_end(path, len(names), wording.what, shown)
    return header


def read_parquet_header(
    path: Path,
    parse: Callable[[list[str], dict[str, str]], Header],
    wording: Wording,
    shown: str = "",
) -> Header:
    """Read a Parquet file's schema (its footer, not its rows) and return
    ``parse(names, types)`` (``types``: DuckDB's type of each column, by name).

    Raises :class:`SourceDataError` for a file DuckDB cannot read (a cut-off file has no
    footer) and, after ``parse``, for a schema without rows (the Parquet form of a
    header-only export).
    """
    import duckdb  # only the plugins that read files depend on DuckDB

    shown = shown or str(path)
    try:
        with duckdb.connect(":memory:") as con:
            described = con.execute(
                "DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]
            ).fetchall()
            (rows,) = con.execute(  # the footer's row count: still no row read
                "SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata(?)", [str(path)]
            ).fetchone()  # type: ignore[misc]
    except duckdb.Error as exc:
        detail = str(exc).splitlines()[0]
        raise SourceDataError(
            f"{shown}: " + wording.parquet_unreadable.format(detail=detail)
        ) from None
    header = parse([row[0] for row in described], {row[0]: row[1] for row in described})
    if not rows:
        raise SourceDataError(
            f"no data rows in {shown}: the Parquet file holds its schema and no row, but "
            f"{wording.what} has at least one; the export is incomplete or failed: export "
            f"it again"
        )
    return header


@dataclass(frozen=True, slots=True)
class FoundExports:
    """A provider's export files as :meth:`ExportFiles.find` found them.

    :param headers: each file's header as its ``read_header`` gave it (with the file's
        ``path``), in path order.
    :param listed: the entry of each file an Azure-style ``manifest.json`` lists.
    """

    headers: Sequence[Any]
    listed: Mapping[Path, ManifestBlob]

    @property
    def paths(self) -> list[Path]:
        return [header.path for header in self.headers]


@dataclass(frozen=True, slots=True)
class ExportFiles:
    """Which files of a folder are a provider's exports, and how one's header is read.

    :param suffixes: the file name endings read (any case), e.g. ``(".csv", ".csv.gz")``.
    :param what: the export's name, e.g. ``"a FOCUS export"`` (as in :class:`Wording`).
    :param not_a_folder: after "<folder>: " when the folder is not one: which setting
        names it.
    :param read_header: reads and checks one file's header (``read_csv_header`` or
        ``read_parquet_header`` with the provider's ``parse``); the header has the
        file's ``path``.
    """

    suffixes: tuple[str, ...]
    what: str
    not_a_folder: str
    read_header: Callable[[Path], Any]

    def find(self, folder: Path, pattern: str) -> FoundExports:
        """The export files below ``folder`` matching ``pattern`` (:func:`find_files`),
        with their headers and what manifests beside them list
        (:func:`~connector.plugin_kit.file_formats.check_azure_manifests`, which first
        refuses a listed file missing or of another size), refusing a byte-identical copy
        (:func:`refuse_identical_copies`). No headers when no file matches."""
        paths = find_files(folder, pattern, self.suffixes, self.not_a_folder)
        listed = check_azure_manifests(paths, self.what) if paths else {}
        refuse_identical_copies(paths, self.what)
        return FoundExports([self.read_header(path) for path in paths], listed)


class ExportsProvider(FolderProvider):
    """A :class:`~connector.plugin_kit.settings.FolderProvider` reading a folder of export
    files (its settings name ``path`` and ``pattern``): ``class FooProvider(ExportsProvider,
    exports=ExportFiles(...))``, and implement :meth:`read`; :meth:`fetch` finds the files.
    """

    exports: ClassVar[ExportFiles]

    def __init_subclass__(cls, exports: ExportFiles | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if exports is not None:
            cls.exports = exports

    def fetch(self, period: BillingPeriod | None = None) -> Iterator[ChargeBatch]:
        """Yield the batches :meth:`read` returns (only ``period``'s when given): every
        file is read and checked before the first batch, so bad data yields none.
        Nothing when no file matches."""
        found = self.exports.find(self.folder, self.settings.pattern)
        if found.headers:
            yield from self.read(found, period)

    def read(self, found: FoundExports, period: BillingPeriod | None) -> Iterable[ChargeBatch]:
        """One batch per billing period of the ``found`` files (only ``period`` when
        given); subclasses say how: a list, or a generator that checks everything before
        its first batch and whose batches' charges may stream (the plugin kit's
        ``charge_tables``)."""
        raise NotImplementedError
