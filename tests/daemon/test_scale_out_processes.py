"""Two daemon processes on PostgreSQL, 20 tenants, 1,000 statements; one is SIGKILLed
midway and the other finishes its work once the dead one's lease has run out. Every
statement is built, numbered (gapless per tenant), pushed and emailed exactly once."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.conftest import REPO
from tests.daemon.daemons import database_rows
from tests.daemon.fakes import write_charges, write_tenant

TENANTS, CUSTOMERS = 20, 50
LEASE_SECONDS = 3

WRAPPER = """\
import dataclasses, fcntl, os, sys, time
sys.path.insert(0, {repo!r})
from tests.daemon import fakes
from tests.daemon.daemons import MailboxFile
import connector.daemon.loop as loop
from connector.contracts import PushResult
from connector.config.tenant import DaemonPolicy
from connector.daemon.options import DaemonOptions

def locked_append(path, read_keys, lines):
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        known = {{line.split()[0] for line in f if line.strip()}}
        new = [line for line in lines if line.split()[0] not in known]
        f.writelines(new)
        return new

class SlowProvider(fakes.MonthFileProvider):
    def fetch(self, period=None):
        open(os.environ["FETCH_MARKER"] + f".{{os.getpid()}}.{{time.monotonic_ns()}}", "w").close()
        time.sleep(float(os.environ["FETCH_SECONDS"]))
        yield from super().fetch(period)

class FileErp(fakes.ErpSimulatorBase):
    # The ERP shared by both processes: a file of created invoices, idempotent per key.
    def push(self, documents):
        locked_append(os.environ["ERP_LEDGER"], None,
                      [f"{{d.idempotency_key}} {{d.statement_id}}\\n" for d in documents])
        return [PushResult(d.statement_id, d.number, True) for d in documents]
    def payment_status(self, documents):
        return []

host = fakes.plugin_host(FileErp, SlowProvider)
loop.load_plugins = lambda: host
loop.Daemon._smtp_mailer = lambda self: MailboxFile()
loop.Daemon.policy = lambda self, tenant: DaemonPolicy(auto_approve=True)
_from_settings = DaemonOptions.from_settings
DaemonOptions.from_settings = classmethod(lambda cls, s: dataclasses.replace(
    _from_settings(s), lease_seconds={lease}, tick_seconds=0.2, outbox_seconds=1))
from connector.cli.daemon import run
run()
"""


def test_two_daemon_processes_survive_a_sigkill_and_do_everything_once(
    postgres_url: str, tmp_path: Path
) -> None:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    month = (dt.date.today().replace(day=1) - dt.timedelta(days=70)).strftime("%Y-%m")
    for t in range(TENANTS):
        rows = [(f"C{c:02d}", f"Customer {c}", f"ap{c}@t{t}.example", f"{t:04d}{c:08d}")
                for c in range(CUSTOMERS)]  # fmt: skip
        write_tenant(tenants, f"t{t:02d}", rows, data=f"t{t:02d}.json",
                     extra_settings=f"      period: '{month}'\n")  # fmt: skip
        (tenants / f"t{t:02d}").mkdir()
        write_charges(tenants / f"t{t:02d}", {a: "10.00" for *_, a in rows})
        (tenants / f"t{t:02d}.json").write_text(
            (tenants / f"t{t:02d}" / "charges.json").read_text()
        )
    settings = tmp_path / "connector.yaml"
    settings.write_text(f"tenants_dir: {tenants}\noutput_dir: {tmp_path / 'out'}\n")
    wrapper = tmp_path / "daemon.py"
    wrapper.write_text(WRAPPER.format(repo=str(REPO), lease=LEASE_SECONDS))
    ledger, mailbox, marker = tmp_path / "erp.txt", tmp_path / "mail.txt", tmp_path / "fetch"

    logs = tmp_path / "daemons.log"  # a file, not a pipe: a full pipe would stall them

    def start(fetch_seconds: float) -> subprocess.Popen:
        env = {**os.environ, "CONNECTOR_CONFIG": str(settings),
               "CONNECTOR_DATABASE_URL": postgres_url, "FETCH_MARKER": str(marker),
               "FETCH_SECONDS": str(fetch_seconds), "ERP_LEDGER": str(ledger),
               "MAILBOX": str(mailbox)}  # fmt: skip
        return subprocess.Popen(
            [sys.executable, str(wrapper), "--metrics-port", "0"], env=env,
            stdout=subprocess.DEVNULL, stderr=logs.open("a"),
        )  # fmt: skip

    victim = start(fetch_seconds=0.5)  # slow: it is in the middle of a fetch when killed
    survivor = start(fetch_seconds=0.0)
    try:
        # A bound on finishing, not a speed target: it took 60 s on a machine loaded
        # 5x over by parallel test workers and other jobs.
        deadline = time.monotonic() + 180
        while len(list(tmp_path.glob(f"fetch.{victim.pid}.*"))) < 3:
            assert victim.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        held = database_rows(postgres_url, "SELECT count(*) FROM work_leases WHERE holder LIKE "
                      f"'%:{victim.pid}:%' AND expires_at > now()")[0][0]  # fmt: skip
        assert held >= 1  # the dead one's unit stays leased until it runs out

        def finished() -> bool:
            mails = mailbox.read_text().splitlines() if mailbox.exists() else []
            return len(set(mails)) >= TENANTS * CUSTOMERS

        while not finished():
            assert survivor.poll() is None, logs.read_text()[-3000:]
            assert time.monotonic() < deadline, "the survivor did not finish in time"
            time.sleep(0.2)
        time.sleep(1.5)  # a few more passes: nothing may happen twice
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(30) == 0
    finally:
        for proc in (victim, survivor):
            if proc.poll() is None:
                proc.kill()
    rows = database_rows(
        postgres_url, "SELECT id, tenant_id, number, status, revision FROM statements"
    )
    assert len(rows) == TENANTS * CUSTOMERS
    assert {r.status for r in rows} == {"Open"} and {r.revision for r in rows} == {1}
    for t in range(TENANTS):
        numbers = sorted(r.number for r in rows if r.tenant_id == f"t{t:02d}")
        assert numbers == [f"NW-{i:04d}" for i in range(1, CUSTOMERS + 1)]
    created = Counter(line.split()[1] for line in ledger.read_text().splitlines())
    assert created == Counter({r.id: 1 for r in rows})
    mails = Counter(mailbox.read_text().splitlines())
    assert len(mails) == TENANTS * CUSTOMERS and set(mails.values()) == {1}
    outbox = database_rows(postgres_url, "SELECT state, count(*) FROM outbox GROUP BY state")
    assert outbox == [("delivered", TENANTS * CUSTOMERS)]
