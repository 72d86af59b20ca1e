"""What the providers' test exports share: rows from defaults, CSV bytes, files written.

The per-provider modules (``cur_files``, ``azure_files``, ``csp_files``, ``focus_files``)
hold each export's columns and defaults and build on these.
"""

from __future__ import annotations

import csv
import gzip
import io
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path


def with_defaults(defaults: Mapping[str, str], values: Mapping[str, str], what: str) -> dict:
    """``defaults`` overridden by ``values``, each of which must name one of ``defaults``
    (``what`` names them in the failure: "unknown <what> {...}")."""
    unknown = set(values) - set(defaults)
    assert not unknown, f"unknown {what} {unknown}"
    return {**defaults, **values}


def row_maker(defaults: Mapping[str, str], what: str) -> Callable[..., dict[str, str]]:
    """``make(**values)``: a row of ``defaults`` overridden by ``values`` (see
    :func:`with_defaults`)."""

    def make(**values: str) -> dict[str, str]:
        return with_defaults(defaults, values, what)

    return make


def csv_writer(default_header: Sequence[str]) -> Callable[..., Path]:
    """``write_csv(path, rows, header=None)``: ``rows`` (dicts) under ``header``, else
    ``default_header``, as a CRLF CSV file (an export's own line ends)."""

    def write_csv(
        path: Path, rows: Iterable[Mapping[str, str]], header: Sequence[str] | None = None
    ) -> Path:
        return write_bytes(path, csv_bytes(header or default_header, rows))

    return write_csv


def csv_bytes(
    header: Sequence[str],
    rows: Iterable[Mapping[str, str]],
    line_end: str = "\r\n",
    extras: str = "raise",
) -> bytes:
    """``rows`` (dicts) under ``header`` as UTF-8 CSV; ``extras="ignore"`` drops keys the
    header lacks."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(
        buffer, fieldnames=list(header), lineterminator=line_end, extrasaction=extras
    )
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def gzip_by_name(path: Path, data: bytes) -> bytes:
    """``data`` gzip-compressed when ``path`` ends in ``.gz``, else as it is."""
    return gzip.compress(data) if path.name.endswith(".gz") else data


def write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path``, making its folder first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def read_csv(path: Path, encoding: str = "utf-8") -> tuple[list[str], list[dict[str, str]]]:
    """A CSV file's header and rows, read with the csv module."""
    with open(path, encoding=encoding, newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def copy(source: Path, folder: Path, name: str | None = None) -> Path:
    """Copy ``source`` into ``folder`` (made when missing), as ``name`` when given."""
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(source, folder / (name or source.name)))
