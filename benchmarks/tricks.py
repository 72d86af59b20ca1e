"""The interpreter tricks' worth: the build and ingest benchmarks with and without each.

Two tricks were added for benchmark figures (issue 21): ``connector.frozen.unfrozen_twin``
(frozen dataclass objects made through a plain class, then given the frozen
``__class__``) and ``connector.gc_pause`` (the cycle collector paused around the loops
that make hundreds of thousands of objects; build workers turn it off outright). This
runs both benchmarks in four configurations, in fresh processes, interleaved (the order
turns each round) and repeated, the best of the rounds counting (the host is shared):

* ``both``: the code as it is;
* ``no_twin``: ``unfrozen_twin`` answers ``None``, so its callers build through
  ``__init__`` (their own fallback). The aws provider's fallback zips each charge's
  context fields into a new dict; it is replaced by the plain loop the code would have
  without the twin (each context's keywords made once), so that only the twin differs;
* ``no_gc_pause``: ``cycle_collector_paused`` is ``contextlib.nullcontext`` and
  ``gc.disable`` does nothing (the build workers call it), so the collector stays on;
* ``neither``: both of the above.

Nothing under ``connector/`` is edited: a generated ``sitecustomize`` (on
``PYTHONPATH``, in a temporary folder) switches the tricks off as each interpreter
starts, before anything imports them; the build's forkserver and its workers start
from it too. Every child reports which modules still hold a twin class or the real
``cycle_collector_paused`` after its run, and the charges the aws provider made are
digested (sha256 of their sorted reprs) so the four configurations are shown to give the same
charges.

Timed: the build benchmark as it is (``build.py``'s ``seconds``: ``generate`` for three
providers, with the default build workers), and, of the ingest benchmark, the full
ingest (``ingest.time_ingest``) and the provider's read alone
(``ingest_provider.time_provider``) of the legacy CUR CSV.gz and of the CUR 2.0 Parquet
file; each in wall seconds and in CPU seconds (the build's: the builder's and its
workers'; the ingest's: every thread of the process). The CPU seconds are steadier when
others use the cores: a waiting process spends none. One JSON line per configuration
(best and every run, load averages), then one with each trick's speed-up (seconds with
the trick off, the other on, over seconds with both on) per figure, and the verdict:
keep a trick on a benchmark only if it buys at least 15% (speed-up >= 1.15) on one of
its headline figures (the build's seconds, each format's full ingest) by both wall and
CPU seconds; ``unclear`` when the two disagree.

    .venv/bin/python benchmarks/tricks.py [--rounds 3] [--customers 1000]
        [--rows 1000000] [--formats csv,parquet] [--benchmarks build,ingest]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import runpy
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
OFF_VARIABLE = "BENCH_TRICKS_OFF"
LOG_VARIABLE = "BENCH_TRICKS_LOG"
TWIN, GC_PAUSE = "twin", "gc_pause"
CONFIGS: dict[str, frozenset[str]] = {
    "both": frozenset(),
    "no_twin": frozenset({TWIN}),
    "no_gc_pause": frozenset({GC_PAUSE}),
    "neither": frozenset({TWIN, GC_PAUSE}),
}
KEEP_AT = 1.15
# Figures the verdict reads, per benchmark; the provider reads are shown, not judged.
HEADLINES = {
    "build": ("build_seconds",),
    "ingest": ("csv_ingest_seconds", "parquet_ingest_seconds"),
}
SITECUSTOMIZE = """\
import importlib.util, sys
_spec = importlib.util.spec_from_file_location("_bench_tricks", {path!r})
_module = importlib.util.module_from_spec(_spec)
sys.modules["_bench_tricks"] = _module
_spec.loader.exec_module(_module)
_module.switch_off_from_environment()
"""

# The real cycle_collector_paused, kept when it is switched off (see live_tricks).
_real_pause: object = None


# --- in every child interpreter, from sitecustomize -----------------------------------


def switch_off_from_environment() -> None:
    """Switch off the tricks named in ``BENCH_TRICKS_OFF``, before anything imports them."""
    off = {name for name in os.environ.get(OFF_VARIABLE, "").split(",") if name}
    if not off and LOG_VARIABLE not in os.environ:
        return
    global _real_pause
    import connector.gc_pause

    _real_pause = connector.gc_pause.cycle_collector_paused
    # The pause first: switching the twin off imports the aws plugin, which imports it.
    if GC_PAUSE in off:
        _switch_off_gc_pause()
    if TWIN in off:
        _switch_off_twin()
    if log := os.environ.get(LOG_VARIABLE):
        with open(log, "a") as file:
            file.write(f"{os.getpid()} {' '.join(sorted(off)) or '-'}\n")


def _switch_off_twin() -> None:
    import connector.frozen

    connector.frozen.unfrozen_twin = lambda cls: None
    import connector_aws.charges as charges

    from connector.contracts import CanonicalCharge

    if charges.UNFROZEN is not None or not hasattr(charges, "_build_through_init"):
        raise SystemExit(
            "benchmarks/tricks.py: connector_aws.charges no longer builds through "
            "_build_through_init when unfrozen_twin gives None; update _switch_off_twin"
        )
    fields = charges.CONTEXT_FIELDS

    def plain(shared, accounts, days, rows):  # what to_charges is without the twin
        keywords = [dict(zip(fields, context, strict=True)) for context in shared]
        made = []
        for context, account, billed, listed, quantity, first_day, last_day in rows:
            billed_cost = Decimal(billed)
            made.append(
                CanonicalCharge(
                    sub_account_id=accounts[account],
                    billed_cost=billed_cost,
                    list_cost=billed_cost if listed == billed else Decimal(listed),
                    quantity=Decimal(quantity),
                    charge_period_start=days[first_day],
                    charge_period_end=days[last_day],
                    **keywords[context],
                )
            )
        return made

    charges._build_through_init = plain


def _switch_off_gc_pause() -> None:
    import gc

    import connector.gc_pause

    connector.gc_pause.cycle_collector_paused = contextlib.nullcontext
    gc.disable = lambda: None  # the build workers turn the collector off outright


def live_tricks() -> dict[str, list[str]]:
    """The loaded connector modules that still hold a twin class or the real pause."""
    switch = sys.modules.get("_bench_tricks")  # this file, as sitecustomize loaded it
    real_pause = getattr(switch, "_real_pause", None)
    if real_pause is None:
        import connector.gc_pause

        real_pause = connector.gc_pause.cycle_collector_paused
    twins, pauses = set(), set()
    for name, module in list(sys.modules.items()):
        if not name.startswith("connector") or name == "connector.gc_pause":
            continue
        for value in list(vars(module).values()):
            if isinstance(value, type) and value.__name__.startswith("Unfrozen"):
                twins.add(name)
            elif value is real_pause:
                pauses.add(name)
    return {"twin_in": sorted(twins), "gc_pause_in": sorted(pauses)}


# --- the child processes: one benchmark, one configuration ----------------------------


def child_build(customers: int) -> None:
    """``build.py`` as it is; then which tricks were live."""
    sys.argv = [str(HERE / "build.py"), "--customers", str(customers)]
    runpy.run_path(str(HERE / "build.py"), run_name="__main__")
    print(json.dumps({**live_tricks(), "gc_enabled": _gc_enabled()}), flush=True)


def child_ingest(rows: int, formats: list[str], digest: bool) -> None:
    """The full ingest and the provider's read of each format; JSON on the last line."""
    sys.path.insert(0, str(HERE))
    from ingest import time_ingest
    from ingest_provider import cached_cur, time_provider

    result: dict[str, object] = {}
    for form in formats:
        path = cached_cur(rows, 5_000, 20261001, suffix=f".{form}" if form != "csv" else ".csv.gz")
        read, read_cpu, charges = time_provider(path.parent)
        cpu = time.process_time()  # every thread's: DuckDB's too
        full, stored = time_ingest(path.parent, None)
        cpu = time.process_time() - cpu
        result |= {f"{form}_read_seconds": read, f"{form}_read_cpu_seconds": read_cpu}
        result |= {f"{form}_ingest_seconds": full, f"{form}_ingest_cpu_seconds": cpu}
        result[f"{form}_charges"] = stored
        if digest:
            result[f"{form}_digest"] = _charges_digest(path.parent)
    print(json.dumps({**result, **live_tricks(), "gc_enabled": _gc_enabled()}), flush=True)


def _charges_digest(folder: Path) -> str:
    from connector_aws import AwsCurProvider

    digest = hashlib.sha256()
    for batch in AwsCurProvider({"path": str(folder)}, folder).fetch():
        digest.update(f"{batch.period} {batch.source_hash} {batch.final}\n".encode())
        # In sorted order: DuckDB's parallel GROUP BY hands the groups over in any order.
        for shown in sorted(repr(charge) for charge in batch.charges):
            digest.update(f"{shown}\n".encode())
    return digest.hexdigest()


def _gc_enabled() -> bool:
    import gc

    return gc.isenabled()


# --- the parent: rounds, figures, verdict ---------------------------------------------


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def run_child(args: list[str], off: frozenset[str], site: Path, log: Path) -> dict:
    """One child's figures: the JSON lines it printed, merged; stderr kept for the CPU."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    env[OFF_VARIABLE] = ",".join(sorted(off))
    env[LOG_VARIABLE] = str(log)
    log.write_text("")
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} ({sorted(off)} off) failed:\n{done.stderr[-3000:]}")
    found: dict = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            found |= json.loads(line)
    found["cpu_seconds"] = _build_cpu(done.stderr)
    found["switched_processes"] = len(log.read_text().splitlines())
    return found


def _build_cpu(stderr: str) -> float | None:
    """The builder's and its workers' CPU seconds, from build.py's per-provider lines."""
    total, seen = 0.0, False
    for line in stderr.splitlines():
        if "in build workers" in line:
            here = line.split("cpu ", 1)[1]
            total += float(here.split("s here")[0]) + float(here.split(", ")[1].split("s ")[0])
            seen = True
    return round(total, 2) if seen else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--customers", type=int, default=1_000, help="build benchmark")
    parser.add_argument("--rows", type=int, default=1_000_000, help="ingest benchmark")
    parser.add_argument("--formats", default="csv,parquet", help="ingest: csv, parquet or both")
    parser.add_argument("--benchmarks", default="build,ingest")
    parser.add_argument("--child", choices=("build", "ingest"), help=argparse.SUPPRESS)
    parser.add_argument("--digest", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    if args.child == "build":
        return child_build(args.customers)
    if args.child == "ingest":
        return child_ingest(args.rows, formats, args.digest)

    benchmarks = [b.strip() for b in args.benchmarks.split(",") if b.strip()]
    runs: dict[str, list[dict]] = {name: [] for name in CONFIGS}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        site, log = Path(tmp) / "site", Path(tmp) / "switched.log"
        site.mkdir()
        (site / "sitecustomize.py").write_text(SITECUSTOMIZE.format(path=str(Path(__file__))))
        if "ingest" in benchmarks:  # the data files, generated before anything is timed
            prepare = ["--child", "ingest", "--rows", str(args.rows)]
            run_child([*prepare, "--formats", ",".join(formats)], frozenset(), site, log)
        names = list(CONFIGS)
        for round_ in range(args.rounds):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                figures: dict = {"load_before": load_average()}
                if "build" in benchmarks:
                    got = run_child(
                        ["--child", "build", "--customers", str(args.customers)],
                        CONFIGS[name], site, log,
                    )  # fmt: skip
                    figures |= {
                        "build_seconds": got["seconds"],
                        "build_cpu_seconds": got["cpu_seconds"],
                        "build_statements": got["statements"],
                        "build_lines": got["lines"],
                        "build_twin_in": got["twin_in"],
                        "build_gc_pause_in": got["gc_pause_in"],
                        "build_switched_processes": got["switched_processes"],
                        "build_gc_enabled": got["gc_enabled"],
                    }
                if "ingest" in benchmarks:
                    ingest_args = ["--child", "ingest", "--rows", str(args.rows)]
                    ingest_args += ["--formats", ",".join(formats)]
                    got = run_child(
                        ingest_args + (["--digest"] if round_ == 0 else []),
                        CONFIGS[name], site, log,
                    )  # fmt: skip
                    got.pop("cpu_seconds", None)
                    got.pop("switched_processes", None)
                    for key in ("twin_in", "gc_pause_in", "gc_enabled"):
                        figures[f"ingest_{key}"] = got.pop(key)
                    figures |= got
                figures["load_after"] = load_average()
                runs[name].append(figures)
                shown = {k: v for k, v in figures.items() if k.endswith("seconds")}
                print(f"round {round_ + 1} {name:12s} {json.dumps(shown)}", file=sys.stderr)

    best = {name: _best(found) for name, found in runs.items()}
    for name, found in runs.items():
        print(json.dumps({"config": name, "off": sorted(CONFIGS[name]), "best": best[name],
                          "runs": found}))  # fmt: skip
    print(json.dumps(_verdict(best, benchmarks, runs, time.perf_counter() - started)))


def _best(found: list[dict]) -> dict:
    """The least disturbed figure of each timing: the minimum over the rounds."""
    keys = [k for k in found[0] if k.endswith("seconds") and found[0][k] is not None]
    best = {k: round(min(run[k] for run in found), 3) for k in keys}
    best["digests"] = sorted({v for run in found for k, v in run.items() if k.endswith("digest")})
    return best


def _cpu(key: str) -> str:
    return key.replace("_seconds", "_cpu_seconds")


def _judge(walls: list[float], cpus: list[float]) -> str:
    """``keep`` if a headline figure's wall and CPU seconds both say the trick buys 15%,
    ``remove`` if no figure's does by either, ``unclear`` otherwise (run it again)."""
    pairs = list(zip(walls, cpus, strict=True))
    if any(wall >= KEEP_AT and cpu >= KEEP_AT for wall, cpu in pairs):
        return "keep"
    if all(wall < KEEP_AT and cpu < KEEP_AT for wall, cpu in pairs):
        return "remove"
    return "unclear"


def _verdict(best: dict, benchmarks: list[str], runs: dict, elapsed: float) -> dict:
    """Each trick's speed-up per figure (its removal alone, and with the other trick off
    too), and whether to keep it on each benchmark."""
    tricks = {TWIN: ("no_twin", "no_gc_pause"), GC_PAUSE: ("no_gc_pause", "no_twin")}
    speedups: dict = {}
    verdict: dict = {}
    for trick, (without, only_it) in tricks.items():
        for benchmark in benchmarks:
            keys = [k for k in best["both"] if k.endswith("seconds")]
            keys = [k for k in keys if k.startswith("build") == (benchmark == "build")]
            for key in keys:
                alone = best[without][key] / best["both"][key]
                with_other_off = best["neither"][key] / best[only_it][key]
                speedups[f"{trick}:{key}"] = {
                    "removing_it": round(alone, 3),
                    "with_the_other_off": round(with_other_off, 3),
                }
            headlines = [k for k in HEADLINES[benchmark] if k in keys]  # formats run
            verdict[f"{trick}:{benchmark}"] = _judge(
                [speedups[f"{trick}:{k}"]["removing_it"] for k in headlines],
                [speedups[f"{trick}:{_cpu(k)}"]["removing_it"] for k in headlines],
            )
    loads = [run[k] for found in runs.values() for run in found for k in ("load_before",
             "load_after")]  # fmt: skip
    digests = {name: best[name]["digests"] for name in best}
    return {
        "speedups": speedups,
        "verdict": verdict,
        "keep_at": KEEP_AT,
        "same_charges": len({tuple(d) for d in digests.values()}) == 1,
        "load_average_1min": {"min": min(loads), "max": max(loads)},
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "elapsed_seconds": round(elapsed, 1),
    }


if __name__ == "__main__":
    main()
