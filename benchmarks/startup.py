"""Start-up benchmark: how long ``connector --help`` and ``--version`` take, against Python.

Each command runs ``--runs`` times as a subprocess of the installed ``connector``
script (``.venv/bin/connector`` beside this Python; ``python -m connector`` when there is
none), round-robin with ``python -c pass`` so a machine that gets busier mid-run slows
every kind alike; the best run of each counts (the least disturbed). The CPU time each
run used (user + system, from ``getrusage``) is printed beside it: on a machine shared
with other work it shows what the wall time would be on a quiet one. Also timed:
``connector statements --help`` (a lazily imported group) and, in a fresh interpreter,
loading every plugin through its entry points (what any command using the registries
pays), to show that neither imports the stack.

The last line printed is JSON::

    {"help_seconds": ..., "version_seconds": ..., "bare_python_seconds": ...,
     "ratio_to_bare_python": ..., "statements_help_seconds": ..., "plugins_seconds": ...,
     "target_seconds": 0.25, "help_ok": true, ...}

Target: ``--help`` and ``--version`` under 0.25 s on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 0.25


def connector_command() -> list[str]:
    """The installed ``connector`` script, or ``python -m connector``."""
    script = Path(sys.executable).with_name("connector")
    if script.exists():
        return [str(script)]
    found = shutil.which("connector")
    return [found] if found else [sys.executable, "-m", "connector"]


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``command``; it must succeed."""
    cpu, start = cpu_of_children(), time.perf_counter()
    subprocess.run(command, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, cpu_of_children() - cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="Runs of each command.")
    args = parser.parse_args(argv)

    connector = connector_command()
    commands = {
        "bare_python": [sys.executable, "-c", "pass"],
        "help": [*connector, "--help"],
        "version": [*connector, "--version"],
        "statements_help": [*connector, "statements", "--help"],
        "plugins": [
            sys.executable, "-c", "from connector.plugins import load_plugins; load_plugins()"
        ],
    }  # fmt: skip
    for command in commands.values():  # warm the file cache: the first run reads the disk
        timed(command)
    runs: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            wall, used = timed(command)
            runs[name].append(wall)
            cpu[name].append(used)
    best = {name: min(seconds) for name, seconds in runs.items()}
    best_cpu = {name: min(seconds) for name, seconds in cpu.items()}

    print(f"{' '.join(connector)}, best of {args.runs} runs (median in brackets)")
    for name, seconds in runs.items():
        median = sorted(seconds)[len(seconds) // 2]
        print(f"  {name:<16} {best[name]:.3f} s  ({median:.3f} s)  cpu {best_cpu[name]:.3f} s")
    summary = {
        "command": " ".join(connector),
        "runs": args.runs,
        "help_seconds": round(best["help"], 4),
        "version_seconds": round(best["version"], 4),
        "bare_python_seconds": round(best["bare_python"], 4),
        "ratio_to_bare_python": round(best["help"] / best["bare_python"], 2),
        "statements_help_seconds": round(best["statements_help"], 4),
        "plugins_seconds": round(best["plugins"], 4),
        "help_cpu_seconds": round(best_cpu["help"], 4),
        "version_cpu_seconds": round(best_cpu["version"], 4),
        "bare_python_cpu_seconds": round(best_cpu["bare_python"], 4),
        "target_seconds": TARGET_SECONDS,
        "help_ok": best["help"] < TARGET_SECONDS,
        "version_ok": best["version"] < TARGET_SECONDS,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
