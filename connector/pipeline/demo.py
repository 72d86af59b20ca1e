"""The demo: the whole month on bundled synthetic data, SQLite and the CSV sink."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from connector.config.settings import DaemonSettings
from connector.domain.periods import parse_period
from connector.pipeline.build.build import generate
from connector.pipeline.close.close import detect_close
from connector.pipeline.ingest.ingest import ingest
from connector.pipeline.publish.export import export
from connector.pipeline.publish.publish import PushOutcome, push
from connector.pipeline.review.approve import approve
from connector.runtime.runtime import Runtime, open_runtime
from connector.storage import models as m

DEMO_TENANT = "acme"
DEMO_PROVIDER = "aws"
DEMO_PERIOD = "2026-10"
# A day after the October 2026 AWS invoice is final: the demo's "today".
DEMO_TODAY = dt.date(2026, 11, 6)
EXPORT_FORMATS = ("pdf", "csv", "detailed-csv", "html", "ubl")


#: The example tenant (config/tenants/acme.yaml, linked here so that wheels carry it)
#: beside the AWS data it reads: the folder is the demo's tenants_dir.
DEMO_TENANTS = Path(__file__).resolve().parents[1] / "demo_data"


@dataclass(slots=True)
class DemoResult:
    runtime: Runtime
    statements: list[m.Statement] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    pushed: list[PushOutcome] = field(default_factory=list)
    # (account, currency) -> billed cost of spend no customer claims (BuildReport's).
    unassigned: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    close_reason: str | None = None


def run_demo(output: Path) -> DemoResult:
    """Ingest, close, build, approve, render and push the example tenant's October."""
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    settings = DaemonSettings(
        database_url=f"sqlite:///{(output / 'demo.db').resolve()}",
        tenants_dir=DEMO_TENANTS,
        output_dir=output,
    )
    runtime = open_runtime(settings)
    period = parse_period(DEMO_PERIOD)
    result = DemoResult(runtime)
    ingest(runtime, DEMO_TENANT, DEMO_PROVIDER, period)
    result.close_reason = detect_close(runtime, DEMO_TENANT, DEMO_PROVIDER, period, DEMO_TODAY)
    report = generate(runtime, DEMO_TENANT, DEMO_PROVIDER, period, today=DEMO_TODAY)
    result.unassigned = report.unassigned
    approved = [s.id for s in approve(runtime, DEMO_TENANT, None, actor="demo")]
    # Approval returns a few fields of each; the demo's table shows the amounts too.
    with runtime.db.transaction() as session:
        found = {
            s.id: s
            for s in session.scalars(select(m.Statement).where(m.Statement.id.in_(approved)))
        }
    result.statements = [found[i] for i in approved]
    result.files = export(
        runtime,
        DEMO_TENANT,
        approved,
        EXPORT_FORMATS,
        output / "statements",
    )
    result.pushed = push(runtime, DEMO_TENANT)
    result.files += sorted((output / DEMO_TENANT / "erp").glob("*.csv"))
    return result
