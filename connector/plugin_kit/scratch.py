"""The scratch DuckDB a file-reading provider aggregates in, and its files' hashes.

The aws, azure and focus providers each aggregate their files in one DuckDB pass held in
a private in-memory database. :class:`ScratchDuckDB` makes that database the same way
for all of them (capped in memory and threads, spilling to a temporary folder of its
own) and removes it, folder included, when the ``with`` block ends, however it ends.
:class:`ScratchAggregate` is the context manager a provider's aggregate builds on (a
:class:`QueryAggregate` when one query over the files' headers fills it),
:func:`reading` turns DuckDB's errors into the plugin's, and :func:`checked_scan` enters an
aggregate so and refuses what its scan found wrong.

:func:`file_digest` and :func:`combined_digest` give the ``source_hash`` of a batch: a
change to either changes every stored hash, so both stay exactly as they are.

The core does not depend on DuckDB: only the plugins that read files do, and it is
imported when a scratch database is made.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from connector.contracts import PluginError, SourceDataError
from connector.plugin_kit.file_formats import ManifestBlob, check_rows_read
from connector.plugin_kit.files import FoundExports, is_parquet

if TYPE_CHECKING:
    import duckdb

# The daemon shares its host with the database and other tenants: cap what one read
# may take. 512 MB holds hundreds of thousands of groups; DuckDB spills beyond it.
MEMORY_LIMIT = "512MB"
THREADS = min(4, os.cpu_count() or 1)

WINDOW = 64 << 20  # bytes hashed per call (a multiple of the page size)

Aggregate = TypeVar("Aggregate", bound="ScratchAggregate")


class ScratchDuckDB:
    """A private in-memory DuckDB connection, as a context manager.

    Entering returns the connection: memory and threads capped (:data:`MEMORY_LIMIT`,
    :data:`THREADS`), spilling to a new temporary folder named ``prefix`` plus a random
    part, insertion order not kept (the reads aggregate; a query that wants an order
    says ORDER BY), no progress bar (a daemon has no terminal), and with ``utc`` the
    session time zone UTC, so that a ``TIMESTAMP WITH TIME ZONE`` gives its UTC date.
    Leaving closes the connection and removes the folder, also when entering failed
    half-way (DuckDB's error is raised as it is).
    """

    def __init__(self, prefix: str, *, utc: bool = False) -> None:
        self.prefix = prefix
        self.utc = utc
        self._spill: tempfile.TemporaryDirectory[str] | None = None
        self._con: duckdb.DuckDBPyConnection | None = None

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        import duckdb  # only the plugins that read files depend on DuckDB

        self._spill = tempfile.TemporaryDirectory(prefix=self.prefix)
        config = {
            "memory_limit": MEMORY_LIMIT,
            "threads": str(THREADS),
            "temp_directory": self._spill.name,
            "preserve_insertion_order": "false",
        }
        try:
            self._con = duckdb.connect(":memory:", config=config)
            self._con.execute("SET enable_progress_bar = false")
            if self.utc:
                self._con.execute("SET TimeZone = 'UTC'")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self._con

    def __exit__(self, *exc_info: object) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._spill is not None:
            self._spill.cleanup()
            self._spill = None


def file_digest(path: Path) -> str:
    """sha256 of one file's bytes (safe for multi-GB reports).

    The file is mapped and hashed a :data:`WINDOW` at a time: hashlib releases the GIL
    for each whole window, so the hash runs beside the provider's Python work. Read in
    1 MB chunks it had to win the GIL back from that work after every megabyte, and
    took three times as long (a 300 MB Parquet file: 0.81 s against 0.26 s alone).
    Hashed windows leave the process's resident set (the kernel keeps its cache).
    """
    digest = hashlib.sha256()
    with open(path, "rb") as raw:
        size = os.fstat(raw.fileno()).st_size
        if not size:  # an empty file cannot be mapped
            return digest.hexdigest()
        with (
            mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ) as mapped,
            memoryview(mapped) as view,
        ):
            for start in range(0, size, WINDOW):
                digest.update(view[start : start + WINDOW])
                if hasattr(mapped, "madvise"):  # not on Windows
                    mapped.madvise(mmap.MADV_DONTNEED, start, min(WINDOW, size - start))
    return digest.hexdigest()


def combined_digest(digests: Iterable[str]) -> str:
    """One hash for several files: sha256 over their digests (hex text) in the order given,
    path order by the providers.

    Hashing digests rather than concatenated bytes keeps file boundaries significant and
    lets each file be read once even when it feeds several billing periods.
    """
    combined = hashlib.sha256()
    for digest in digests:
        combined.update(digest.encode("ascii"))
    return combined.hexdigest()


class ScratchAggregate:
    """A fetch's rows aggregated into temporary tables of a :class:`ScratchDuckDB`.

    Use as a context manager: entering makes the database (named :attr:`prefix`, in UTC
    when :attr:`utc`) and calls :meth:`fill`, which runs the scan; a scan that fails
    closes the database again and its error is raised as it is. :attr:`con` is the
    connection while the ``with`` block runs.

    :meth:`file_rows`, :meth:`has_bad_rows` and :meth:`check` read a
    :attr:`table` of groups that carries the columns ``file_no`` (the file's index),
    ``row_count`` and ``bad`` (a row of the group broke a rule, for the provider's
    diagnosis to name).
    """

    prefix: ClassVar[str] = "connector-scratch-"
    utc: ClassVar[bool] = False
    table: ClassVar[str] = "groups"

    def __init__(self) -> None:
        self._scratch = ScratchDuckDB(self.prefix, utc=self.utc)
        self._con: duckdb.DuckDBPyConnection | None = None

    def fill(self, con: duckdb.DuckDBPyConnection) -> None:
        """Scan the files into the temporary tables (subclasses say how)."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._con = self._scratch.__enter__()
        try:
            self.fill(self._con)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._con = None
        self._scratch.__exit__(*exc_info)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        assert self._con is not None, f"use {type(self).__name__} as a context manager"
        return self._con

    def file_rows(self) -> dict[int, int]:
        """How many data rows each file holds, by file number (files without any absent)."""
        rows = self.con.execute(
            f"SELECT file_no, sum(row_count) FROM {self.table} GROUP BY file_no"
        ).fetchall()
        return {file_no: int(count) for file_no, count in rows}

    def has_bad_rows(self) -> bool:
        """Whether a row of any group broke a rule."""
        found = self.con.execute(f"SELECT 1 FROM {self.table} WHERE bad LIMIT 1").fetchone()
        return found is not None

    def check(
        self,
        paths: Sequence[Path],
        listed: Mapping[Path, ManifestBlob],
        what: str,
        diagnose: Callable[[], str | None],
        *,
        empty_ok: Collection[int] = (),
    ) -> None:
        """Refuse what the scan found wrong: a file holding another number of data rows
        than its manifest lists, or none (unless its index is in ``empty_ok``; see
        :func:`~connector.plugin_kit.file_formats.check_rows_read`), a row that
        broke a rule: :class:`SourceDataError` with ``diagnose()``'s message naming the
        line (it re-reads the files), else one naming the files; and two files of the
        same rows (:meth:`refuse_same_rows`)."""
        check_rows_read(paths, self.file_rows(), listed, what, empty_ok=empty_ok)
        if self.has_bad_rows():
            names = ", ".join(str(path) for path in paths)
            raise SourceDataError(diagnose() or f"{names}: a row has an invalid required value")
        self.refuse_same_rows(paths, what)

    def refuse_same_rows(self, paths: Sequence[Path], what: str) -> None:
        """Raise when two files gave exactly the same groups: the same rows, perhaps
        compressed, reordered or in another format (``export.csv`` beside
        ``export.csv.gz``), which would be billed twice.

        Each file's groups are hashed (a 128-bit md5 of each group, every column but
        ``file_no``, summed by halves as sums do not depend on order); files of one
        export hold other rows, so equal sums mean a copy.
        """
        if len(paths) < 2:
            return
        # Only files whose group and row counts match another's can be copies: hash those.
        rows = self.con.execute(f"""
            WITH counts AS (
                SELECT file_no, count(*) AS groups, sum(row_count) AS rows
                FROM {self.table} GROUP BY file_no
            ),
            suspects AS (
                SELECT file_no FROM counts WHERE (groups, rows) IN (
                    SELECT (groups, rows) FROM counts GROUP BY ALL HAVING count(*) > 1)
            ),
            keyed AS (
                SELECT file_no, md5_number(CAST(struct_pack(*COLUMNS(* EXCLUDE (file_no)))
                    AS VARCHAR)) AS h
                FROM {self.table} WHERE file_no IN (SELECT file_no FROM suspects)
            ),
            per_file AS (
                SELECT file_no, count(*) AS groups, sum((h >> 64)::UBIGINT) AS high,
                    sum((h & {(1 << 64) - 1})::UBIGINT) AS low
                FROM keyed GROUP BY file_no
            )
            SELECT list(file_no ORDER BY file_no) FROM per_file
            GROUP BY groups, high, low HAVING count(*) > 1
        """).fetchall()
        if rows:
            first, copy = sorted(row[0][:2] for row in rows)[0]
            raise SourceDataError(
                f"{paths[copy]} holds the same rows as {paths[first]} (perhaps compressed or "
                f"in another format): {what} read twice would be billed twice; remove one of "
                f"them: nothing was ingested"
            )


class QueryAggregate(ScratchAggregate):
    """A :class:`ScratchAggregate` whose scan is one query over the files' ``headers``:
    entering creates the temporary :attr:`table` as what :meth:`scan_sql` selects."""

    def __init__(self, headers: Sequence[object]) -> None:
        super().__init__()
        self.headers = headers

    def scan_sql(self) -> str:
        """The query that scans and groups the files (subclasses give it)."""
        raise NotImplementedError

    def fill(self, con: duckdb.DuckDBPyConnection) -> None:
        con.execute(f"CREATE TEMP TABLE {self.table} AS " + self.scan_sql())


@contextmanager
def reading(names: str, what: str, explain: Callable[[duckdb.Error], Exception]) -> Iterator[None]:
    """Turn DuckDB's errors in the ``with`` block into the plugin's.

    DuckDB refusing the data (a value it cannot convert, input it cannot parse, a cut-off
    gzip stream) raises what ``explain(error)`` returns: the provider's diagnosis, which
    names file, line, column and value. Any other DuckDB error is not the data's fault
    (memory, disk, permissions): :class:`PluginError` ``"<names>: reading <what> failed:
    <error>"``.
    """
    import duckdb

    try:
        yield
    except (duckdb.ConversionException, duckdb.InvalidInputException, duckdb.IOException) as exc:
        raise explain(exc) from None
    except duckdb.Error as exc:
        raise PluginError(f"{names}: reading {what} failed: {exc}") from None


def explain_by(
    find: Callable[[], str | None], names: str, what: str, data: str = "the export"
) -> Callable[[duckdb.Error], PluginError]:
    """The ``explain`` of :func:`reading` for a provider whose ``find()`` re-reads the
    files to name the first bad value (it raises :class:`SourceDataError` itself for rows
    that are not CSV at all).

    DuckDB's refusal then raises: ``find()``'s message; when it finds nothing, DuckDB's
    own words (its first lines name the line and the problem) as
    :class:`SourceDataError` "<names>: DuckDB could not read <data>: ...", or, for an
    ``IOException`` (the files read fine here: not the data), :class:`PluginError`
    "<names>: reading <what> failed: ..."; an unreadable file (``OSError``) or a Parquet
    file the diagnosis cannot read are named as such.
    """

    def explain(exc: duckdb.Error) -> PluginError:
        import duckdb

        try:
            message = find()
        except OSError as error:
            return PluginError(f"{names}: reading {what} failed: {error}")
        except duckdb.Error as error:  # the diagnosis reads Parquet files with DuckDB
            detail = " ".join(str(error).splitlines()[:2])
            return SourceDataError(f"{names}: a Parquet file could not be read: {detail}")
        if message is not None:
            return SourceDataError(message)
        detail = " ".join(str(exc).splitlines()[:3])
        if isinstance(exc, duckdb.IOException):
            return PluginError(f"{names}: reading {what} failed: {detail}")
        return SourceDataError(f"{names}: DuckDB could not read {data}: {detail}")

    return explain


@contextmanager
def checked_scan(
    aggregate: Aggregate,
    found: FoundExports,
    what: str,
    find_bad_value: Callable[[Sequence[Any]], str | None],
) -> Iterator[Aggregate]:
    """Enter ``aggregate`` (its scan runs) and refuse what it found wrong in the
    ``found`` files (:meth:`ScratchAggregate.check`: rows against what manifests list, a
    CSV file without data rows, a row breaking a rule), then run the ``with`` block.

    DuckDB's errors in all of it are the plugin's (:func:`reading`), explained by
    ``find_bad_value(found.headers)``, which re-reads the files to name the first bad
    value (:func:`explain_by`). A Parquet file may hold no data row here: its rows were
    counted when its header was read.

    ``with checked_scan(MyAggregate(found.headers), found, WHAT, find) as groups:``
    """
    find = partial(find_bad_value, found.headers)
    paths = found.paths
    names = ", ".join(str(path) for path in paths)
    parquet = [file_no for file_no, path in enumerate(paths) if is_parquet(path)]
    with reading(names, "the exports", explain_by(find, names, "the exports")), aggregate:
        aggregate.check(paths, found.listed, what, find, empty_ok=parquet)
        yield aggregate
