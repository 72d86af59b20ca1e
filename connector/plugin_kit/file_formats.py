"""Recognising a billing file by its column names, and telling a complete export from a
cut-off one by what its last bytes show.

A folder synced from several places easily collects another provider's export; "missing
columns X, Y, Z" is then less helpful than "this is an AWS CUR file". Shared by the
providers that read files, so that each names the others' formats the same way.

A format is recognised only by columns no other known format has: an Oracle Cloud (OCI)
cost report also names its columns ``lineItem/...`` and ``product/...``, so a
``lineItem/`` prefix alone says nothing about AWS.

A file cut off while it was written or copied is, for plain CSV, recognised by its end:
the exporters read here (AWS CUR, Azure cost details, FOCUS, Partner Center) always end
the last row with a line break, so a file whose last byte is not one was cut inside its
last row. Only the last few KB are read for that (:func:`check_csv_end`); the rows
themselves are read by DuckDB. A file cut exactly at a line end cannot be told from a
complete one by its content: there a manifest's byte and row counts are the only
evidence (:func:`read_azure_manifest`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from connector.contracts import SourceDataError

AWS_CUR = "an AWS Cost and Usage Report (legacy CUR)"
AWS_CUR2 = "an AWS CUR 2.0 / Data Exports file"
AZURE_COST = "an Azure EA / MCA cost-details export (provider azure)"
AZURE_CSP = "a Partner Center (CSP) invoice reconciliation file (provider azure-csp)"
FOCUS = "a FOCUS cost export (provider focus)"
OCI_COST = "an Oracle Cloud (OCI) cost report, which no provider here reads"

# Columns only that format has (casefolded); any one set of a format's sets is enough.
_SIGNATURES: tuple[tuple[str, tuple[frozenset[str], ...]], ...] = (
    # OCI first: it shares the lineItem/ and product/ prefixes with the legacy CUR.
    (OCI_COST, (frozenset({"lineitem/referenceno", "cost/mycost"}),
                frozenset({"lineitem/referenceno", "product/resourceid"}),
                frozenset({"cost/mycost", "cost/productsku"}))),
    (AWS_CUR, (frozenset({"identity/lineitemid", "lineitem/unblendedcost"}),
               frozenset({"bill/payeraccountid", "lineitem/unblendedcost"}),
               frozenset({"identity/lineitemid", "bill/payeraccountid"}))),
    (AWS_CUR2, (frozenset({"line_item_line_item_type", "line_item_unblended_cost"}),
                frozenset({"identity_line_item_id", "line_item_unblended_cost"}))),
    (FOCUS, (frozenset({"billedcost", "chargecategory"}),)),
    (AZURE_CSP, (frozenset({"partnerid", "customerid", "chargetype", "subtotal"}),)),
    (AZURE_COST, (frozenset({"metercategory", "costinbillingcurrency"}),
                  frozenset({"metercategory", "cost"}),
                  frozenset({"metercategory", "pretaxcost"}))),
)  # fmt: skip


def looks_like(names: Iterable[str]) -> str | None:
    """What a file with these column names looks like, or ``None`` if nothing known."""
    folded = {name.strip().casefold() for name in names}
    for kind, signatures in _SIGNATURES:
        if any(signature <= folded for signature in signatures):
            return kind
    return None


def unrecognised(names: Sequence[str], expected: str, missing: Sequence[str]) -> str:
    """The end of a message for a header that is no export we know: how it starts, and
    the columns of the ``expected`` format it lacks."""
    start = ",".join(names[:3]) + ("..." if len(names) > 3 else "")
    return (
        f"it is not a recognised export (it starts {start!r}); {expected} needs the "
        f"column(s) {', '.join(missing)}, which it lacks"
    )


# ---------------------------------------------------------------------------
# Cut-off files
# ---------------------------------------------------------------------------

TAIL_BYTES = 64 * 1024  # far more than any real export's last row


def _count_lines(path: Path) -> int:
    """Physical lines of ``path`` (a last line without a line break counts). Only run
    once a file is known to be cut off, to name the line."""
    count, last = 0, b"\n"
    with open(path, "rb") as raw:
        while chunk := raw.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def check_csv_end(path: Path, columns: int, what: str, shown: str = "") -> None:
    """Raise :class:`SourceDataError` when a plain CSV file is cut off or holds no rows.

    Reads only the last :data:`TAIL_BYTES` (and the start, for a short file). Evidence:
    the file does not end with a line break (the exporters always write one), its last
    row has fewer fields than the header's ``columns``, or a quote in it is never
    closed; and a file of one line (the header) holds no data rows.

    :param what: the export's name for messages, e.g. ``"a FOCUS export"``.
    :param shown: how messages name the file (default: its path).
    """
    shown = shown or str(path)
    size = path.stat().st_size
    with open(path, "rb") as raw:
        raw.seek(max(0, size - TAIL_BYTES))
        tail = raw.read()
    whole = size <= TAIL_BYTES
    body = tail.rstrip(b"\r\n")
    if whole and b"\n" not in body.lstrip(b"\xef\xbb\xbf"):
        raise no_data_rows(shown, what)
    # The last record starts after the last line break outside quotes; from inside the
    # file the quoting state is unknown, so take the last physical line and, when its
    # quotes do not balance, the lines before it until they do.
    lines = body.split(b"\n")
    if not whole:
        lines = lines[1:]  # the first one is probably cut by the seek
    record = b""
    for line in reversed(lines):
        record = line + (b"\n" + record if record else b"")
        if record.count(b'"') % 2 == 0:
            break
    quoted_open = record.count(b'"') % 2 == 1
    if quoted_open:  # no line before it closes the quote: it opens on the last line
        record = lines[-1] if lines else b""
    ends_with_break = tail.endswith(b"\n")
    text = record.decode("utf-8", errors="replace")
    fields = None if quoted_open else len(next(csv.reader(io.StringIO(text)), []))
    if ends_with_break and not quoted_open and fields is not None and fields >= columns:
        return
    if ends_with_break and quoted_open and not whole:
        return  # a quoted value with line breaks longer than the tail: cannot tell
    # Line breaks after the record: the one ending it, and any blank lines after it.
    breaks_after = max(tail[len(body) :].count(b"\n") - 1, 0)
    line = _count_lines(path) - breaks_after - record.count(b"\n")
    if not ends_with_break:
        reason = "the file does not end with a line break, which every complete export has"
    elif quoted_open:
        reason = "a quoted value in it is never closed"
    else:
        reason = f"it has {fields} field(s) but the header has {columns}"
    raise SourceDataError(
        f"{shown}: line {line} is cut off: {reason}; the export was still being written or "
        f"copied: nothing was ingested, copy or download it again"
    )


def no_data_rows(shown: str, what: str) -> SourceDataError:
    """The error for an export that holds its header and nothing else."""
    return SourceDataError(
        f"no data rows in {shown}: it holds only the header line, but {what} has at least "
        f"one row; the export is incomplete or failed: export it again"
    )


def check_has_data_row(raw: BinaryIO, shown: str, what: str) -> None:
    """Raise "no data rows" when ``raw``, read past the header line, holds no other line
    with content (a few lines are read at most: for ``.gz`` files, whose end cannot be
    read without decompressing them whole)."""
    for _ in range(16):
        line = raw.readline(TAIL_BYTES)
        if not line:
            raise no_data_rows(shown, what)
        if line.strip():
            return


def check_text_end(path: Path, what: str, shown: str = "") -> None:
    """Raise :class:`SourceDataError` when a plain text file (JSON lines) does not end
    with a line break: its last record was cut off."""
    shown = shown or str(path)
    size = path.stat().st_size
    with open(path, "rb") as raw:
        raw.seek(max(0, size - 1))
        last = raw.read(1)
    if size and last != b"\n":
        raise SourceDataError(
            f"{shown}: line {_count_lines(path)} is cut off: the file does not end with a "
            f"line break, which every complete {what} has; nothing was ingested, copy or "
            f"download it again"
        )


# ---------------------------------------------------------------------------
# Azure export manifests
# ---------------------------------------------------------------------------

AZURE_MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class ManifestBlob:
    """One data file an export manifest lists: its byte and data row counts, when given."""

    manifest: Path
    name: str
    byte_count: int | None
    row_count: int | None


def read_azure_manifest(folder: Path) -> list[ManifestBlob] | None:
    """The blobs ``folder/manifest.json`` lists, or ``None`` when there is no manifest.

    Azure Cost Management exports with file partitioning (cost details and FOCUS) write
    a ``manifest.json`` beside their ``part_*.csv(.gz)`` files: ``blobCount``,
    ``dataRowCount``, ``byteCount`` and per blob ``blobName``, ``byteCount``,
    ``dataRowCount``. Raises :class:`SourceDataError` for a manifest that is not such a
    JSON object, or whose blob list does not have ``blobCount`` entries.
    """
    path = folder / AZURE_MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceDataError(
            f"{path}: the export manifest is not JSON ({exc}); it may be cut off: copy it again"
        ) from None
    blobs = manifest.get("blobs") if isinstance(manifest, dict) else None
    if not isinstance(blobs, list) or not all(
        isinstance(b, dict) and isinstance(b.get("blobName"), str) for b in blobs
    ):
        raise SourceDataError(
            f"{path}: the export manifest has no list of blobs (each with a blobName); an "
            f'Azure export manifest lists its data files under "blobs"'
        )
    count = manifest.get("blobCount")
    if isinstance(count, int) and count != len(blobs):
        raise SourceDataError(
            f"{path}: blobCount is {count} but the manifest lists {len(blobs)} blob(s); the "
            f"manifest is incomplete: copy it again"
        )

    def number(blob: dict, key: str) -> int | None:
        value = blob.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    return [
        ManifestBlob(path, b["blobName"], number(b, "byteCount"), number(b, "dataRowCount"))
        for b in blobs
    ]


def check_azure_manifests(files: Sequence[Path], what: str) -> dict[Path, ManifestBlob]:
    """Check every file against the ``manifest.json`` of its folder, where there is one.

    Every blob the manifest lists must be there with the byte count it gives (a file cut
    exactly at a line end is caught here and only here). Returns the manifest's entry
    of each file it lists, for the caller to compare data row counts once read.
    """
    by_folder: dict[Path, list[Path]] = {}
    for path in files:
        by_folder.setdefault(path.parent, []).append(path)
    listed: dict[Path, ManifestBlob] = {}
    for folder, paths in by_folder.items():
        blobs = read_azure_manifest(folder)
        if blobs is None:
            continue
        present = {p.name: p for p in paths}
        for blob in blobs:
            name = blob.name.rsplit("/", 1)[-1]
            path = present.get(name)
            if path is None:
                raise SourceDataError(
                    f"{blob.manifest}: the manifest lists {blob.name}, but {folder} has no "
                    f"file {name}; the export is incomplete (still being delivered or "
                    f"copied): nothing was ingested"
                )
            size = path.stat().st_size
            if blob.byte_count is not None and size != blob.byte_count:
                raise SourceDataError(
                    f"{path}: the file has {size} bytes but {blob.manifest} says "
                    f"{blob.byte_count}; {what} is incomplete or was changed after export: "
                    f"nothing was ingested, copy it again"
                )
            listed[path] = blob
    return listed


def check_row_count(path: Path, rows: int, blob: ManifestBlob | None, what: str) -> None:
    """Raise when a manifest gives the file's data row count and ``rows`` differs."""
    if blob is None or blob.row_count is None or blob.row_count == rows:
        return
    raise SourceDataError(
        f"{path}: the file holds {rows} data row(s) but {blob.manifest} says "
        f"{blob.row_count}; {what} is incomplete: nothing was ingested, copy it again"
    )


def check_rows_read(
    paths: Sequence[Path],
    rows: Mapping[int, int],
    listed: Mapping[Path, ManifestBlob],
    what: str,
    *,
    empty_ok: Collection[int] = (),
) -> None:
    """Raise when a file holds another number of data rows than its manifest lists, or
    none at all (only blank lines after its header).

    :param rows: data rows read, by the file's index in ``paths`` (files without any
        absent).
    :param listed: the manifest entries :func:`check_azure_manifests` returned.
    :param empty_ok: the indexes of files that may hold no row.
    """
    for file_no, path in enumerate(paths):
        count = rows.get(file_no, 0)
        check_row_count(path, count, listed.get(path), what)
        if not count and file_no not in empty_ok:
            raise no_data_rows(str(path), what)


# ---------------------------------------------------------------------------
# Where a charge's text came from
# ---------------------------------------------------------------------------


def locate_text(
    rows: Iterable[tuple[object, Mapping[str, str | None]]], value: str, aliases: Sequence[str]
) -> tuple[object, str] | None:
    """``(line, alias)`` of the first row whose column ``alias`` (one of ``aliases``)
    gave the charge text ``value``: it holds ``value`` itself, or the part of a value made
    of several columns (Azure's "MeterSubCategory / MeterName") that is at fault (too long
    on its own, or holding a control character). ``None`` when no row does.

    :param rows: ``(line, {alias: raw value})`` of every data row, in file order. Only
        run once there is something to report: it reads the rows.
    """
    for line, row in rows:
        for alias in aliases:
            cell = (row.get(alias) or "").strip()
            if not cell or cell not in value:
                continue
            if cell == value or len(cell) > len(value) // 2 or not cell.isprintable():
                return line, alias
    return None
