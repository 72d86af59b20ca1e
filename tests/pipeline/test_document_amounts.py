"""Statements reach renderers and sinks with amounts in the currency's minor unit.

PostgreSQL hands every stored amount back at NUMERIC(38, 12)'s scale (``323.080000000000``);
renderers print an amount with the places it carries, so a statement rendered from
PostgreSQL printed twelve decimals. Customer 1001's total, from the month-end test's
oracle, is printed as it is on an invoice: two places.
"""

from __future__ import annotations

import re
from pathlib import Path

from connector.pipeline.build.build import generate
from connector.pipeline.build.documents import statement_document
from connector.pipeline.ingest.ingest import ingest
from connector.pipeline.publish.export import export
from connector.storage import models as m
from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER, expected_totals

LONG_AMOUNT = re.compile(r"\d\.\d{3,}")


def test_documents_carry_amounts_in_the_currencys_minor_unit(runtime, tmp_path: Path) -> None:
    ingest(runtime, "acme", "aws")
    report = generate(runtime, "acme", "aws", OCTOBER, customer_ids=["1001"], today=AFTER_CLOSE)
    [statement_id] = [s.id for s in report.generated]
    total = expected_totals()["1001"]

    html, csv = export(runtime, "acme", [statement_id], ["html", "csv"], tmp_path)
    assert f"{total}" in html.read_text()
    for path in (html, csv):
        assert LONG_AMOUNT.findall(path.read_text()) == [], path.name

    with runtime.db.transaction() as session:
        statement = session.get(m.Statement, statement_id)
        document = statement_document(runtime.tenant("acme"), statement)
    amounts = [line.amount for line in document.lines]
    amounts += [document.subtotal, document.tax, document.total]
    assert {a.as_tuple().exponent for a in amounts} == {-2}
    assert document.total == total
