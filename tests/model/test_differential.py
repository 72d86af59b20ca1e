"""The real pipeline against the reference model, on random whole tenants.

Each example is a tenant drawn by :mod:`tests.model.strategies`: its charges go
through ingest, close, build and approve on SQLite and on PostgreSQL, and every
statement line, discount, support fee, credit, tax, total and remaining credit balance
must equal the reference model's (:mod:`tests.model.reference`) to the minor unit.
The long search over tens of thousands of tenants is benchmarks/differential_search.py;
here a few dozen keep CI quick, and hypothesis shrinks whatever they find.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings

from tests.model import engine, reference
from tests.model.strategies import tenants

SETTINGS = settings(
    deadline=None,
    # A drawn tenant is large by design (several customers, periods and providers).
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def check_against_the_model(runtime, workspace: Path, feed: str, examples: int) -> None:
    @settings(SETTINGS, max_examples=examples)
    @given(tenants())
    def check(tenant: reference.Tenant) -> None:
        expected = reference.run(tenant)
        actual = engine.run(runtime, tenant, workspace, feed)
        assert engine.differences(expected, actual) == []

    check()


def test_statements_built_from_cur_files_match_the_model(db_url: str, tmp_path: Path) -> None:
    """The whole ingest included: CUR files read by the aws provider plugin."""
    with engine.pipeline_runtime(db_url, tmp_path) as runtime:
        check_against_the_model(runtime, tmp_path, "cur", examples=12)


def test_statements_built_from_canonical_charges_match_the_model(
    db_url: str, tmp_path: Path
) -> None:
    """More tenants for the time: charges handed to ingest by an in-process provider."""
    with engine.pipeline_runtime(db_url, tmp_path) as runtime:
        check_against_the_model(runtime, tmp_path, "memory", examples=20)


def test_the_model_agrees_with_itself_on_line_totals() -> None:
    """The model's own bookkeeping: its lines add up to its total, its credits never
    exceed what was granted, and its balances never go negative."""

    @settings(SETTINGS, max_examples=100)
    @given(tenants())
    def check(tenant: reference.Tenant) -> None:
        outcome = reference.run(tenant)
        for statement in outcome.statements:
            assert sum(ln.amount for ln in statement.lines) == statement.total
            assert statement.credits >= 0
        assert all(balance >= 0 for balance in outcome.balances.values())

    check()
