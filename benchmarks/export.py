"""Export benchmark (issue 24): ``export_statements`` against the way it read and wrote
before, in one run, on a month-end database.

    .venv/bin/python benchmarks/export.py --work DIR --database-url URL \\
        [--formats csv --formats pdf,csv] [--statements 1500] [--rounds 2]

``DIR`` and ``URL`` are a month-end benchmark's, prepared up to ``approve``
(``benchmarks/month_end_stages.py setup|ingest|close|build|approve``). For each format
list, each round times both ways, alternating which goes first so that the shared
host's load falls on both alike:

* ``chunked``: ``pipeline.publish.export.export_statements`` as it is: 500 statements a
  query with their lines, each chunk's files one ``PrivateBatch`` (their fsyncs waiting
  together);
* ``one_by_one``: the reference, what it did before: ``session.get`` per statement (its
  lines and detail rows loaded lazily) and ``write_private`` per file (one fsync each,
  one after another).

CSV alone keeps the PDF renderer's own cost out of the figures. Each line is JSON:
statements per second, fsyncs, statements queries, files written, load average; the
last line has the ratio of the reference's seconds to ours per format list.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from month_end_stages import TENANT, _statement_ids, open_world  # noqa: E402
from sqlalchemy import event  # noqa: E402

from connector.pipeline.build.documents import statement_document  # noqa: E402
from connector.pipeline.publish.erp import tenant_renderer  # noqa: E402
from connector.pipeline.publish.export import (  # noqa: E402
    export_statements,
    statement_basename,
)
from connector.runtime.runtime import Runtime  # noqa: E402
from connector.safe_paths import path_under, write_private  # noqa: E402
from connector.storage import models as m  # noqa: E402


def one_by_one(
    runtime: Runtime, tenant: str, ids: Sequence[str], formats: Sequence[str], out: Path
) -> int:
    """The reference: export as it was before issue 24; returns the files written."""
    config = runtime.tenant(tenant)
    renderers = runtime.plugins.renderers
    chosen = [(fmt, tenant_renderer(config, renderers.get(fmt))) for fmt in formats]
    written = 0
    with runtime.db.transaction() as session:
        for statement_id in ids:
            statement = session.get(m.Statement, statement_id)
            document = statement_document(config, statement)
            for fmt, renderer in chosen:
                data = renderer.render(document, fmt)
                name = f"{statement_basename(statement)}{renderers.suffix(fmt)}"
                write_private(path_under(out, name), data)
                written += 1
    return written


def chunked(
    runtime: Runtime, tenant: str, ids: Sequence[str], formats: Sequence[str], out: Path
) -> int:
    done = export_statements(runtime, tenant, ids, formats, out)
    assert not done.failed and not done.needs_approval, done.failed[:3]
    return len(done.written)


@contextmanager
def counting(runtime: Runtime) -> Iterator[dict[str, int]]:
    """Counts fsyncs (any thread) and statements queries while the block runs."""
    counts = {"fsyncs": 0, "statements_queries": 0}
    fsyncs = itertools.count()
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        next(fsyncs)  # atomic under the GIL, whichever thread calls
        real_fsync(fd)

    def executed(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if "FROM statements" in statement:
            counts["statements_queries"] += 1

    engine = runtime.db.engine
    event.listen(engine, "before_cursor_execute", executed)
    os.fsync = fsync
    try:
        yield counts
    finally:
        os.fsync = real_fsync
        event.remove(engine, "before_cursor_execute", executed)
        counts["fsyncs"] = next(fsyncs)


WAYS: dict[str, Callable[..., int]] = {"chunked": chunked, "one_by_one": one_by_one}


def timed(way: str, runtime: Runtime, ids: list[str], formats: list[str], out: Path) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    load = os.getloadavg()[0]
    with counting(runtime) as counts:
        started = time.perf_counter()
        files = WAYS[way](runtime, TENANT, ids, formats, out)
        seconds = time.perf_counter() - started
    shutil.rmtree(out, ignore_errors=True)
    return {
        "way": way,
        "formats": ",".join(formats),
        "statements": len(ids),
        "files": files,
        "seconds": round(seconds, 3),
        "statements_per_second": round(len(ids) / seconds, 1),
        **counts,
        "loadavg_start": round(load, 2),
        "loadavg_end": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--formats", action="append", help="comma-separated; repeatable")
    parser.add_argument("--statements", type=int, help="the first N (default: all)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    runtime = open_world(args.work, args.database_url)
    ids = _statement_ids(runtime)[: args.statements]
    ratios = {}
    for formats in [f.split(",") for f in args.formats or ["csv", "pdf,csv"]]:
        seconds = {way: 0.0 for way in WAYS}
        for round_ in range(args.rounds):
            order = list(WAYS) if round_ % 2 == 0 else list(reversed(WAYS))
            for way in order:
                line = timed(way, runtime, ids, formats, args.work / "export-bench" / way)
                seconds[way] += line["seconds"]
                print(json.dumps({"round": round_, **line}), flush=True)
        ratios[",".join(formats)] = round(seconds["one_by_one"] / seconds["chunked"], 2)
    runtime.db.dispose()
    print(json.dumps({"reference_seconds_over_ours": ratios, "loadavg": os.getloadavg()}))


if __name__ == "__main__":
    main()
