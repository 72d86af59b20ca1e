"""Steps that take the example tenant's October to statements with every event."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from connector.contracts import PushResult
from connector.pipeline.build.build import generate
from connector.pipeline.ingest.ingest import ingest
from connector.runtime.runtime import Runtime
from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER

LATER = dt.timedelta(hours=2)  # past any retry wait (retry_delay is at most about an hour)


class ArchivingErp:
    """An ERP sink that refuses customer 1003 for good (its delivery goes dead)."""

    name: ClassVar[str] = "archiving-erp"
    settings_model: ClassVar[type | None] = None

    def __init__(self, settings, context) -> None:
        pass

    def push(self, documents):
        return [
            PushResult(d.statement_id, None, False, "Contact is archived", permanent=True)
            if d.customer_id == "1003"
            else PushResult(d.statement_id, f"inv-{d.number}", True)
            for d in documents
        ]


def drafts(runtime: Runtime) -> list[str]:
    """October's Drafts of the three customers (1001, 1002, 1003), by id."""
    runtime.plugins.sinks.add(ArchivingErp)
    runtime.tenants["acme"].erp.sink = ArchivingErp.name
    ingest(runtime, "acme", "aws")
    report = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    return [s.id for s in sorted(report.generated, key=lambda s: s.customer_id)]
