"""The long differential search: the reference model against the real pipeline.

Runs ``--examples`` random tenants (tests/model/strategies.py) through ingest, close,
build and approve on one database, and compares every statement line, discount,
support fee, credit, tax, total and remaining credit balance with the reference model
(tests/model/reference.py). Prints how many examples ran and every difference found;
exits 1 if there was any.

    .venv/bin/python benchmarks/differential_search.py --examples 20000
    .venv/bin/python benchmarks/differential_search.py --database \\
        postgresql+psycopg://postgres@127.0.0.1:5432/test --feed cur --examples 500

Cheap per example, so that 20,000 fit in well under 40 minutes on one core: one
database and runtime for the whole search, a fresh tenant per example, and (by
default) the charges handed to ingest by an in-process provider plugin instead of CUR
files read with DuckDB (``--feed cur`` reads real files, about six times slower).
Hypothesis drives the search without shrinking (shrink a difference with the test
suite: tests/model/test_differential.py), and without its example database.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

from tests.model import engine, reference  # noqa: E402
from tests.model.strategies import tenants  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=20000)
    parser.add_argument("--database", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--feed", choices=engine.FEEDS, default="memory")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed, to repeat")
    parser.add_argument(
        "--stop-after", type=int, default=1000, help="stop after N examples with differences"
    )
    parser.add_argument(
        "--show", type=int, default=2, help="examples printed per kind of difference (smallest)"
    )
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="differential-", dir=_fast_tmp()))
    url = args.database or f"sqlite:///{scratch / 'search.db'}"
    ran, found = 0, []
    started = time.perf_counter()

    with engine.pipeline_runtime(url, scratch) as runtime:

        @settings(
            max_examples=args.examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )
        @given(tenants())
        def search(tenant: reference.Tenant) -> None:
            nonlocal ran
            if len(found) >= args.stop_after:
                return
            ran += 1
            expected = reference.run(tenant)
            try:
                actual = engine.run(runtime, tenant, scratch, args.feed)
            except Exception as exc:  # the engine refusing what the model accepts differs too
                found.append((tenant, [f"{type(exc).__name__}: {exc}",
                                       traceback.format_exc(limit=-2)]))  # fmt: skip
                return
            problems = engine.differences(expected, actual)
            if problems:
                found.append((tenant, problems))
            if ran % 1000 == 0:
                elapsed = time.perf_counter() - started
                kinds = sorted({_kind(problems[0]) for _, problems in found})
                print(f"{ran} examples, {len(found)} with differences, {elapsed:.0f} s; "
                      f"kinds: {kinds}", flush=True)  # fmt: skip

        if args.seed is not None:
            search = _seeded(search, args.seed)
        search()

    elapsed = time.perf_counter() - started
    print(f"ran {ran} examples in {elapsed:.0f} s ({1000 * elapsed / max(ran, 1):.0f} ms each) "
          f"on {url.split('?')[0]} with the {args.feed} feed")  # fmt: skip
    print(f"{len(found)} examples with differences")
    kinds: dict[str, list] = {}
    for tenant, problems in found:
        kinds.setdefault(_kind(problems[0]), []).append((tenant, problems))
    for number, (kind, cases) in enumerate(sorted(kinds.items()), start=1):
        print(f"\n=== kind {number}: {kind} ({len(cases)} examples)")
        for tenant, problems in sorted(cases, key=lambda case: len(repr(case[0])))[: args.show]:
            print(f"--- {tenant!r}")
            for problem in problems:
                print(f"  {problem}")
    return 1 if found else 0


def _kind(problem: str) -> str:
    """A difference without its numbers and ids, so that alike differences group."""
    first = problem.splitlines()[0]
    first = re.sub(r"\('\d{4}-\d{2}', '[\w-]+', 'c\d+'\)", "(period, provider, customer)", first)
    first = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<id>", first)
    first = re.sub(r"customer c\d+", "customer c?", first)
    return re.sub(r"-?\d+(\.\d+)?", "N", first)[:160]


def _seeded(test, seed: int):  # type: ignore[no-untyped-def]
    from hypothesis import seed as hypothesis_seed

    return hypothesis_seed(seed)(test)


def _fast_tmp() -> str | None:
    """/dev/shm where there is one: SQLite's fsync on each commit is a third of an
    example on a disk."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() else None


if __name__ == "__main__":
    sys.exit(main())
