"""The daemon counts its webhook deliveries by tenant, endpoint and outcome
(``connector_webhook_deliveries_total``), as it counts its ERP pushes."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from connector.daemon.clock import FrozenClock
from tests.daemon.fakes import write_charges, write_tenant
from tests.daemon.test_end_to_end import CUSTOMERS
from tests.daemon.test_isolation_and_notify import CLOSED, _daemon
from tests.webhooks.conftest import SECRET
from tests.webhooks.receiver import Receiver

METRIC = "connector_webhook_deliveries_total"


def _endpoint(name: str, receiver: Receiver) -> str:
    return f"""  - name: {name}
    url: {receiver.url}
    secret: {{secret_env: NW_WEBHOOK_SECRET}}
"""


def test_deliveries_are_counted_by_tenant_endpoint_and_outcome(
    tmp_path: Path, receiver: Receiver, payments_receiver: Receiver, monkeypatch
) -> None:
    crm = payments_receiver
    crm.status = 503  # down: its first attempt fails, its other events wait untried
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    path = write_tenant(tenants, "northwind", CUSTOMERS)
    tenant_file = path.read_text()
    path.write_text(tenant_file + "webhooks:\n" + _endpoint("books", receiver)
                    + _endpoint("crm", crm))  # fmt: skip
    monkeypatch.setenv("NW_WEBHOOK_SECRET", SECRET)
    write_charges(tenants, {"111111111111": "120.00", "222222222222": "80.00"})
    clock = FrozenClock(CLOSED)
    daemon = _daemon(tmp_path, tenants, clock, None)  # auto-approving, no email
    registry = daemon.metrics.registry

    def counted(endpoint: str, result: str) -> float | None:
        labels = {"tenant": "northwind", "endpoint": endpoint, "result": result}
        return registry.get_sample_value(METRIC, labels)

    try:
        assert daemon.run_once().failed == []
        assert len(receiver.requests) == 6  # 2 drafted, 2 approved, 2 delivered
        assert counted("books", "delivered") == 6
        assert len(crm.requests) == 1
        assert counted("crm", "failed") == 1
        assert counted("crm", "delivered") is None and counted("crm", "dead") is None

        # The endpoint leaves the tenant file: its undelivered events die once due.
        path.write_text(tenant_file + "webhooks:\n" + _endpoint("books", receiver))
        daemon.reload_tenants()
        with daemon.runtime.db.transaction() as session:
            session.execute(sa.text("UPDATE webhook_deliveries SET next_attempt_at = '2000-01-01'"))
        clock.advance(seconds=3600)
        assert daemon.run_once().failed == []
        assert counted("crm", "dead") == 6
        assert counted("crm", "failed") == 1  # nothing was sent to it again
        assert len(crm.requests) == 1
        assert counted("books", "delivered") == len(receiver.requests)
        assert counted("books", "failed") is None
    finally:
        daemon.close()
