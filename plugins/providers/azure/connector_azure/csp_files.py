"""Reading Partner Center reconciliation files: CSV and JSON lines, plain or gzip'ed.

Every reader yields ``(line, record)``: the physical line a row starts on (the CSV
header being line 1; the first JSON line being line 1) and the row's raw values by
field alias. A file that cannot be read whole raises :class:`SourceDataError`.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

from connector.contracts import SourceDataError
from connector.plugin_kit.file_formats import no_data_rows
from connector.plugin_kit.files import GZIP_ERRORS, GZIP_MAGIC, GZIP_MISNAMED, is_gzip
from connector_azure.csp_fields import REQUIRED, Layout, resolve

CSV_SUFFIXES = (".csv", ".csv.gz")
JSON_SUFFIXES = (".json", ".jsonl", ".json.gz", ".jsonl.gz")
READ_SUFFIXES = CSV_SUFFIXES + JSON_SUFFIXES
WHAT = "a reconciliation file"

Record = dict[str, object]
NOT_A_FOLDER = (
    "the azure-csp provider's path is not a folder; set "
    "providers.azure-csp.settings.path to the folder the reconciliation files are in"
)


def is_json(path: Path) -> bool:
    return path.name.lower().endswith(JSON_SUFFIXES)


def _open(path: Path) -> BinaryIO:
    if is_gzip(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    with open(path, "rb") as raw:
        if raw.read(2) == GZIP_MAGIC:
            raise SourceDataError(f"{path}: {GZIP_MISNAMED}")
    return open(path, "rb")  # noqa: SIM115


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(number, text)`` of every physical line, decoded, with gzip errors explained."""
    number = 0
    try:
        with _open(path) as raw:
            for number, line in enumerate(raw, start=1):  # noqa: B007
                try:
                    text = line.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    raise SourceDataError(
                        f"{path}: line {number} is not UTF-8 text (byte {exc.start + 1} of the "
                        f"line); Partner Center reconciliation files are UTF-8"
                    ) from None
                if not line.endswith(b"\n"):
                    # Partner Center ends every file with a line break (CSV and JSON
                    # lines alike): without one, the last row was cut while written or
                    # copied, even where what is left of it still parses.
                    raise SourceDataError(
                        f"{path}: line {number} is cut off: the file does not end with a line "
                        f"break, which every complete reconciliation file has; the file was "
                        f"still being written or copied: nothing was ingested, copy it again"
                    )
                yield number, text
    except GZIP_ERRORS as exc:
        where = f"after line {number}" if number else "at its start"
        raise SourceDataError(
            f"{path}: the gzip data is cut off or corrupt {where} ({exc}); download the file "
            f"again (nothing from it was ingested)"
        ) from None
    if number == 0:
        kind = "JSON lines (one object per line)" if is_json(path) else "a CSV header line"
        raise SourceDataError(
            f"{path}: the file is empty; a reconciliation file starts with {kind} naming "
            f"PartnerId, CustomerId, InvoiceNumber, ..."
        )


def read_records(path: Path) -> Iterator[tuple[int, Layout, Record]]:
    """Every row of one file as ``(line, layout, record)``."""
    if is_json(path):
        yield from _json_records(path)
    else:
        yield from _csv_records(path)


def _csv_records(path: Path) -> Iterator[tuple[int, Layout, Record]]:
    reader = csv.reader((line for _, line in _lines(path)), strict=True)
    layout: Layout | None = None
    positions: list[tuple[str, int]] = []
    previous_end = rows = 0
    try:
        for row in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if layout is None:
                if not any(cell.strip() for cell in row):
                    raise SourceDataError(
                        f"{path}: line 1 is blank; a reconciliation CSV starts with its header "
                        f"PartnerId,CustomerId,CustomerName,..."
                    )
                layout = resolve(path, row)
                index = {name: i for i, name in reversed(list(enumerate(layout.names)))}
                positions = [(alias, index[name]) for alias, name in layout.keys.items()]
                continue
            if not any(cell.strip() for cell in row):
                continue  # a blank line, usually the last one
            if len(row) != len(layout.names):
                raise SourceDataError(
                    f"{path}: line {start} has {len(row)} fields but the header has "
                    f"{len(layout.names)}; every row needs one value per column (quote values "
                    f"that contain commas)"
                )
            rows += 1
            yield start, layout, {alias: row[i] for alias, i in positions}
        if layout is not None and not rows:
            raise no_data_rows(str(path), WHAT)
    except csv.Error as exc:
        raise SourceDataError(
            f"{path}: line {previous_end + 1} is not valid CSV ({exc}); values with commas, "
            f"quotes or line breaks must be enclosed in double quotes"
        ) from None


def _json_records(path: Path) -> Iterator[tuple[int, Layout, Record]]:
    layout: Layout | None = None
    for number, line in _lines(path):
        if not line.strip():
            continue
        try:
            value = json.loads(line, parse_float=Decimal, parse_int=Decimal)
        except json.JSONDecodeError as exc:
            hint = (
                "; the file holds one JSON document, but the reconciliation export is JSON "
                "lines (one object per line)"
                if line.lstrip().startswith("[")
                else ""
            )
            raise SourceDataError(
                f"{path}: line {number} is not a JSON object ({exc.msg} at column {exc.colno})"
                f"{hint}"
            ) from None
        if not isinstance(value, dict):
            raise SourceDataError(
                f"{path}: line {number} is a JSON {type(value).__name__}, not an object; the "
                f"reconciliation export is JSON lines (one object per line)"
            )
        if layout is None:
            layout = resolve(path, list(value), where=f"line {number} (the first record)")
        absent = [layout.keys[f.alias] for f in REQUIRED if layout.keys[f.alias] not in value]
        if absent:
            raise SourceDataError(
                f"{path}: line {number} lacks the field(s) {', '.join(absent)} that the first "
                f"record has; every record must carry the same fields"
            )
        yield number, layout, {alias: value.get(key) for alias, key in layout.keys.items()}
    if layout is None:  # blank lines only
        raise no_data_rows(str(path), "a reconciliation file (JSON lines)")
