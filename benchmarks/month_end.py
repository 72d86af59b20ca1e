"""Month-end benchmark: a distributor's month, provider files to invoices in the ERP.

At scale 1 a distributor of 5,000 customers on three providers (a 5,000,000-row legacy
CUR, a 1,000,000-row Azure EA export and a 1,000,000-row FOCUS export; see
:mod:`month_end_synth`) goes through every stage the daemon runs, each stage in its own
process through the code the daemon uses (:mod:`month_end_stages`): ingest, close,
build, approve all, render (PDF and CSV), push to the CSV sink and to the Xero
simulator. One JSON line per stage (seconds, items per second, peak RSS, the floor
measured in the same run where one exists, load average), then a total line with
``duplicate_invoices`` and ``number_gaps`` checked from the database and both sinks.

``--curve 0.5,1,2`` runs each scale and ends with a line carrying the cost per item at
each scale, ``cost_growth`` (the largest per-stage ratio of cost per item, largest
scale over smallest; target <= 1.25), ``rss_growth`` (target <= 1.5), and the checks;
it draws the curve to ``--plot`` and prints the scaling table (Markdown) on stderr.

``--daemons 2`` then runs the month end (at ``--daemon-scale``, default the largest
scale) with one ``connector run`` process and with N on one PostgreSQL database, and
prints each run's wall time and checks (:mod:`month_end_daemons`).

    .venv/bin/python benchmarks/month_end.py --scale 1 \
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres] \
        [--curve 0.5,1,2] [--daemons 2 --daemon-scale 1 [--daemon-pdf] [--only-daemons]]
        [--plot FILE] [--work DIR]

Without ``--postgres`` each run gets a new SQLite file; with it, a new database on that
server (created and dropped by the benchmark). Provider files are cached under
``benchmarks/.data/month_end-<scale>`` (``--data``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from month_end_report import curve_line, markdown_table, plot, total_line  # noqa: E402
from month_end_stages import NOT_STARTED  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

HERE = Path(__file__).resolve().parent
STAGES = ("ingest", "close", "build", "approve", "render", "push-csv", "push-xero", "verify")


def emit(line: dict) -> None:
    print(json.dumps(line), flush=True)


@contextmanager
def fresh_database(server: str | None, work: Path, name: str):  # type: ignore[no-untyped-def]
    """A new empty database for one run: a SQLite file, or one on ``server`` (dropped after)."""
    if server is None:
        yield f"sqlite:///{work / 'connector.db'}"
        return
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _stage(args: list[str]) -> dict:
    command = [sys.executable, str(HERE / "month_end_stages.py"), *args]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    for _ in range(3):
        if done.returncode != NOT_STARTED:
            break
        # A plugin did not load, so nothing was done (the tree is shared with people
        # editing it): try again. Any other failure is final.
        print(f"{args[0]} could not start; trying it again", file=sys.stderr)
        time.sleep(10)
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    if done.returncode:
        raise subprocess.CalledProcessError(done.returncode, command)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_scale(scale: float, server: str | None, work: Path, data: Path) -> tuple[list, dict]:
    """Every stage at ``scale`` on a new database; prints and returns the stage lines."""
    work.mkdir(parents=True, exist_ok=True)
    name = f"month_end_{str(scale).replace('.', '_')}_{os.getpid()}"
    with fresh_database(server, work, name) as url:
        common = ["--work", str(work), "--database-url", url]
        setup = _stage(["setup", *common, "--scale", str(scale), "--data", str(data)])
        lines = []
        for stage in STAGES:
            line = {**_stage([stage, *common]), "scale": scale}
            emit(line)
            lines.append(line)
    total = total_line(scale, setup, lines)
    emit(total)
    return lines, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--curve", help="comma-separated scales, e.g. 0.5,1,2")
    parser.add_argument("--postgres", help="a PostgreSQL server URL; default: SQLite files")
    parser.add_argument("--daemons", type=int, default=0, help="also run N daemons (PostgreSQL)")
    parser.add_argument("--daemon-scale", type=float, help="default: the largest scale run")
    parser.add_argument("--daemon-timeout", type=float, default=3600)
    parser.add_argument("--only-daemons", action="store_true", help="skip the stage runs")
    parser.add_argument(
        "--daemon-pdf", action="store_true", help="the daemons attach each PDF in Xero"
    )
    parser.add_argument(
        "--plot", type=Path, default=HERE.parent / "docs/performance/cost_per_item.png"
    )
    parser.add_argument("--work", type=Path, help="default: a temporary folder")
    parser.add_argument(
        "--data",
        type=Path,
        default=HERE / ".data",
        help="provider files are cached in DATA/month_end-<scale>",
    )
    args = parser.parse_args()
    scales = [float(s) for s in args.curve.split(",")] if args.curve else [args.scale]
    with tempfile.TemporaryDirectory(prefix="month-end-") as tmp:
        work = args.work or Path(tmp)
        runs, totals = {}, {}
        for scale in [] if args.only_daemons else scales:
            runs[scale], totals[scale] = run_scale(
                scale, args.postgres, work / f"scale-{scale:g}", args.data / f"month_end-{scale:g}"
            )
        if len(scales) > 1:
            emit(curve_line(runs, totals))
            plot(runs, args.plot)
            print(markdown_table(runs, totals), file=sys.stderr)
        if args.daemons:
            if args.postgres is None:
                parser.error("--daemons needs --postgres: daemons share work on PostgreSQL only")
            from month_end_daemons import run_daemons

            scale = args.daemon_scale or max(scales)
            data = args.data / f"month_end-{scale:g}"
            for count in sorted({1, args.daemons}):
                name = f"month_end_daemons_{count}_{os.getpid()}"
                folder = work / f"daemons-{count}"
                with fresh_database(args.postgres, folder, name) as url:
                    emit(
                        run_daemons(
                            count, scale, url, folder, data, args.daemon_timeout, args.daemon_pdf
                        )
                    )


if __name__ == "__main__":
    main()
