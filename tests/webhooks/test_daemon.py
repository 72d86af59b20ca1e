"""The daemon sends each pass's events in that pass: built, approved and delivered
statements in the outbox unit, paid and Past Due ones in the payments unit."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from connector.daemon.clock import FrozenClock
from tests.daemon.fakes import erp_simulator, write_charges, write_tenant
from tests.daemon.test_end_to_end import CUSTOMERS
from tests.daemon.test_isolation_and_notify import CLOSED, _daemon
from tests.webhooks.conftest import SECRET


def test_each_pass_sends_the_events_it_caused(tmp_path: Path, receiver, monkeypatch) -> None:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    path = write_tenant(tenants, "northwind", CUSTOMERS)
    path.write_text(path.read_text() + f"""webhooks:
  - name: books
    url: {receiver.url}
    secret: {{secret_env: NW_WEBHOOK_SECRET}}
""")  # fmt: skip
    monkeypatch.setenv("NW_WEBHOOK_SECRET", SECRET)
    write_charges(tenants, {"111111111111": "120.00", "222222222222": "80.00"})
    erp = erp_simulator()
    clock = FrozenClock(CLOSED)
    daemon = _daemon(tmp_path, tenants, clock, None, erp)  # auto-approving, no email
    try:
        assert daemon.run_once().failed == []
        built = Counter(e["type"] for e in receiver.events(SECRET))
        assert built == {"statement.drafted": 2, "statement.approved": 2,
                         "statement.delivered": 2}  # fmt: skip

        paid = next(iter(erp.ledger.created))
        erp.ledger.paid.add(paid)
        clock.set(dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC))
        assert daemon.run_once().failed == []
        later = [e for e in receiver.events(SECRET) if e["type"] not in built]
        assert sorted((e["type"], e["data"]["statement"]["id"] == paid) for e in later) == [
            ("statement.paid", True),
            ("statement.past_due", False),
        ]
    finally:
        daemon.close()
