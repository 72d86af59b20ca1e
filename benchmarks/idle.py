"""Idle benchmark: the daemon's memory and CPU with tenants that have nothing to do.

Sets up (in a temporary folder) ``--tenants`` tenants, each a copy of the example
tenant ``config/tenants/acme.yaml`` reading the demo AWS data, on a fresh SQLite
database; runs ``connector run --once`` so every provider's data is ingested (and the
closed period's Drafts built, which wait for review: nothing is auto-approved); then
starts ``connector run`` (with ``--api``: also ``api.enabled``) as a subprocess, every
installed plugin loaded through its entry points, waits until it logs that it started
plus a short warm-up, and samples the daemon process itself for ``--seconds``:

* RSS: ``VmRSS`` of ``/proc/<pid>/status``, every 0.25 s; the peak counts;
* CPU: ``utime + stime`` of ``/proc/<pid>/stat`` at the window's start and end.

Then it stops the daemon with SIGTERM. To say where the memory goes, it also measures,
in fresh interpreters, the RSS after importing the ``connector`` command and after
loading the plugins. The last line printed is JSON::

    {"tenants": 20, "seconds": 60, "peak_rss_mib": ..., "cpu_seconds": ...,
     "import_rss_mib": ..., "plugins_rss_mib": ..., ...}

Targets: peak RSS under 150 MB, CPU under 1 s over 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "config" / "tenants" / "acme.yaml"
DEMO_AWS = REPO / "connector" / "demo_data" / "aws"
TICKS = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024

# RSS of a fresh interpreter after the given statements, printed in KiB.
PROBE = """\
import sys
{code}
for line in open("/proc/self/status"):
    if line.startswith("VmRSS:"):
        print(line.split()[1])
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_setup(folder: Path, tenants: int, api: bool = False) -> Path:
    """Tenant files, the settings file and the folders; returns the settings file."""
    tenants_dir = folder / "tenants"
    tenants_dir.mkdir()
    template = TEMPLATE.read_text()
    for n in range(1, tenants + 1):
        text = re.sub(r"^tenant: acme$", f"tenant: t{n:02d}", template, flags=re.M)
        text = text.replace("../../connector/demo_data/aws", str(DEMO_AWS))
        text = text.replace("output_dir: erp", f"output_dir: {folder / 'erp' / f't{n:02d}'}")
        (tenants_dir / f"t{n:02d}.yaml").write_text(text)
    settings = folder / "connector.yaml"
    settings.write_text(
        f"database_url: sqlite:///{folder / 'connector.db'}\n"
        f"tenants_dir: {tenants_dir}\n"
        f"output_dir: {folder / 'out'}\n"
        "log_level: INFO\n"
        "log_format: text\n"
        "metrics: {port: 0}\n" + (f"api: {{enabled: true, port: {free_port()}}}\n" if api else "")
    )
    return settings


def connector(settings: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "connector", "--config", str(settings), *args]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` (fields 14 and 15 of /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name (field 2) may hold spaces; fields after it are plain.
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def wait_started(log_file: Path, process: subprocess.Popen, timeout: float) -> None:
    """Until the daemon logs ``daemon ... started``; raises if it exits or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daemon exited {process.returncode}:\n{log_file.read_text()}")
        if re.search(r"daemon \S+ started", log_file.read_text()):
            return
        time.sleep(0.1)
    raise RuntimeError(f"daemon did not start in {timeout}s:\n{log_file.read_text()}")


def probe_rss_mib(code: str) -> float:
    """RSS (MiB) of a fresh interpreter after running ``code``."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(code=code)],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    return int(out.stdout.split()[-1]) / 1024


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the JSON summary as the last line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--warmup", type=float, default=5.0, help="Seconds after start.")
    parser.add_argument("--api", action="store_true", help="With api.enabled (uvicorn).")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="connector-idle-") as tmp:
        folder = Path(tmp)
        settings = write_setup(folder, args.tenants, api=args.api)
        started = time.perf_counter()
        subprocess.run(connector(settings, "run", "--once"), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        print(f"ingested {args.tenants} tenant(s) in {time.perf_counter() - started:.1f}s",
              file=sys.stderr)  # fmt: skip

        log_file = folder / "daemon.log"
        with log_file.open("w") as log:
            daemon = subprocess.Popen(connector(settings, "run"), stdout=log, stderr=log)
        try:
            wait_started(log_file, daemon, timeout=120)
            time.sleep(args.warmup)
            start_rss = rss_kib(daemon.pid)
            cpu_start = cpu_seconds(daemon.pid)
            peak = start_rss
            end = time.monotonic() + args.seconds
            while time.monotonic() < end:
                peak = max(peak, rss_kib(daemon.pid))
                time.sleep(0.25)
            cpu = cpu_seconds(daemon.pid) - cpu_start
            peak = max(peak, rss_kib(daemon.pid))
        finally:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=40)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        errors = [line for line in log_file.read_text().splitlines() if "ERROR" in line]
        for line in errors:
            print(line, file=sys.stderr)

    imports = probe_rss_mib("import connector.cli.main")
    plugins = probe_rss_mib(
        "import connector.cli.main\nfrom connector.plugins import load_plugins\nload_plugins()"
    )
    bare = probe_rss_mib("pass")
    summary = {
        "tenants": args.tenants,
        "seconds": args.seconds,
        "api": args.api,
        "peak_rss_mib": round(peak / 1024, 1),
        "rss_at_window_start_mib": round(start_rss / 1024, 1),
        "cpu_seconds": round(cpu, 2),
        "python_rss_mib": round(bare, 1),
        "import_rss_mib": round(imports, 1),
        "plugins_rss_mib": round(plugins, 1),
        "daemon_errors": len(errors),
        "rss_ok": peak * 1024 < 150 * 1000 * 1000,
        "cpu_ok": cpu < 1.0,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
