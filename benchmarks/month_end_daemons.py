"""The month end run by daemon processes on one PostgreSQL database.

For each count (one daemon, then ``--daemons`` N): a new database, the distributor set
up with ``daemon: {auto_approve: true}`` (and, if asked, PDFs attached to the Xero
invoices: the daemon renders them), the
Xero simulator served from this process, and that many ``connector run`` processes
(``benchmarks/month_end_daemon.py``) started at once. Wall time is from their start to
the moment the outbox holds every statement delivered; then they are stopped with
SIGTERM and the work is checked: every statement built, Open, numbered gaplessly,
in Xero exactly once (with exactly one PDF attached, when attached).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from month_end_stages import load_average, verify
from month_end_synth import PROVIDERS, TENANT, Size
from sqlalchemy import create_engine, func, select

from connector.storage import models as m

HERE = Path(__file__).resolve().parent


def _delivered(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(
                select(func.count())
                .select_from(m.OutboxEntry)
                .where(m.OutboxEntry.state == "delivered")
            )
    except Exception:  # noqa: BLE001 (the schema is not there until a daemon migrates)
        return 0
    finally:
        engine.dispose()


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def run_daemons(
    count: int, scale: float, url: str, work: Path, data: Path, timeout: float, attach_pdf: bool
) -> dict:
    """Set up, run ``count`` daemons until everything is delivered, check; the JSON line.

    ``attach_pdf``: the Xero sink renders and attaches every statement's PDF, one API
    call each: Xero's 5,000 calls a day per organisation then caps a run at about
    4,800 statements (scale 0.3); without, at 50 invoices a call, scale 1 fits.
    """
    from connector_erp_xero.limits import CONCURRENT, PER_MINUTE
    from push import scaled_clock

    from tests.erp.push_sim import XeroServer

    server = XeroServer(concurrent=CONCURRENT)
    server.xero.clock, server.xero.per_minute = scaled_clock, PER_MINUTE
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            str(HERE / "month_end_stages.py"),
            "setup",
            "--work",
            str(work),
            "--database-url",
            url,
            "--scale",
            str(scale),
            "--data",
            str(data),
            "--daemon",
            *(["--attach-pdf"] if attach_pdf else []),
            "--base-url",
            server.base_url,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    settings = work / "connector.yaml"
    settings.write_text(
        f"database_url: {url}\ntenants_dir: {work / 'tenants'}\noutput_dir: {work / 'out'}\n"
        f"token_key: {(work / 'token-key').read_text()}\nschedule: {{outbox_seconds: 1}}\n"
    )
    expected = Size(scale).customers * len(PROVIDERS)
    env = {**os.environ, "CONNECTOR_CONFIG": str(settings)}
    log = (work / "daemons.log").open("a")
    load_start = load_average()
    started = time.perf_counter()
    daemons = [
        subprocess.Popen(
            [sys.executable, str(HERE / "month_end_daemon.py"), "--metrics-port", "0"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        for _ in range(count)
    ]
    rss: list[float] = []
    try:
        while _delivered(url) < expected:
            if (
                any(d.poll() is not None for d in daemons)
                or time.perf_counter() - started > timeout
            ):
                raise RuntimeError(f"daemons stopped or timed out: see {work / 'daemons.log'}")
            time.sleep(0.5)
        seconds = time.perf_counter() - started
        time.sleep(2)  # a few more passes: nothing may happen twice
        rss = [_peak_rss_mib(d.pid) for d in daemons]
        for daemon in daemons:
            daemon.send_signal(signal.SIGTERM)
        codes = [daemon.wait(60) for daemon in daemons]
    finally:
        for daemon in daemons:
            if daemon.poll() is None:
                daemon.kill()
        server.close()
    xero = server.xero
    in_xero = Counter(i["InvoiceNumber"] for i in xero.invoices.values())
    attachments = Counter(len(xero.attachments.get(i, {})) for i in xero.invoices)
    from month_end_stages import open_world

    runtime = open_world(work, url)
    try:
        found = verify(runtime, work, {"xero": in_xero})
    finally:
        runtime.db.dispose()
    return {
        "stage": "daemons",
        "daemons": count,
        "scale": scale,
        "expected_statements": expected,
        "seconds": round(seconds, 2),
        "statements_per_second": round(expected / seconds, 1),
        "exit_codes": codes,
        "peak_rss_mib_each": rss,
        **found,
        "attach_pdf": attach_pdf,
        "invoices_with_one_pdf": attachments.get(1, 0),
        "invoices_without_pdf": attachments.get(0, 0),
        "simulator_429": xero.throttled + server.concurrency_429,
        "loadavg_start": load_start,
        "loadavg_end": load_average(),
        "tenant": TENANT,
    }
