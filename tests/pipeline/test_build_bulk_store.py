"""The builder's bulk writes store exactly what build_statement produced, on both databases.

The oracle builds each statement again with the pure domain function, from the stored
charges read through the ORM, and compares every line and detail row read back
through the ORM, Decimal for Decimal (on SQLite also digit for digit).
"""

from __future__ import annotations

from dataclasses import astuple
from decimal import Decimal

import pytest
from sqlalchemy import select

from connector.domain.pricing import version_in_force
from connector.domain.statement import BuiltStatement, CustomerCharge, build_statement
from connector.pipeline import credits
from connector.pipeline.build.build import (
    _statement_options,
    current_batch_ids,
    generate,
    pricebook_versions,
)
from connector.pipeline.build.provider_terms import marketplace_terms
from connector.pipeline.ingest.ingest import ingest
from connector.storage import models as m
from tests.pipeline.legacy_credits import store_grant
from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER
from tests.pipeline.together import run_together

LINE_FIELDS = ("position", "kind", "description", "amount", "cost", "service_category",
               "account_id", "quantity")  # fmt: skip
DETAIL_FIELDS = ("account_id", "service_category", "service_name", "sku", "line_item_type",
                 "is_marketplace", "quantity", "cost", "price", "price_rounded")  # fmt: skip


def oracle(runtime, customer_id: str, available: Decimal, provider: str = "aws") -> BuiltStatement:
    """The statement build_statement makes from the stored charges, read through the ORM."""
    config = runtime.tenants["acme"]
    customer = config.customer(customer_id)
    with runtime.db.transaction() as session:
        batch_ids = current_batch_ids(session, "acme", provider, OCTOBER)
        stored = session.scalars(
            select(m.Charge)
            .where(
                m.Charge.batch_id.in_(batch_ids),
                m.Charge.sub_account_id.in_(customer.accounts[provider]),
            )
            .order_by(m.Charge.id)
        )
        charges = [
            CustomerCharge(c.sub_account_id, c.service_name, c.service_category, c.sku,
                           c.line_item_type, c.charge_category, c.is_marketplace, c.billed_cost,
                           c.list_cost, c.quantity)
            for c in stored
        ]  # fmt: skip
    versions = pricebook_versions(config, customer.pricebooks[provider])
    terms = marketplace_terms(runtime.plugins, config, provider)  # as the build names it
    options = _statement_options(config, customer, config.generation, available, True, terms)
    return build_statement(charges, version_in_force(versions, OCTOBER.start), options)


def read_back(runtime, statement_id: str) -> m.Statement:
    with runtime.db.transaction() as session:
        statement = session.get(m.Statement, statement_id)
        assert statement is not None
        statement.lines, statement.detail_rows  # noqa: B018 - loaded before the session ends
        return statement


def assert_same(stored: m.Statement, built: BuiltStatement, sqlite: bool) -> None:
    lines = [tuple(getattr(x, f) for f in LINE_FIELDS) for x in stored.lines]
    details = [tuple(getattr(d, f) for f in DETAIL_FIELDS) for d in stored.details]
    assert lines == [astuple(x) for x in built.lines]
    assert details == [tuple(d) for d in built.details]
    assert (stored.subtotal, stored.tax, stored.total) == (built.subtotal, built.tax, built.total)
    if sqlite:  # stored as text there: every digit and the exponent survive
        assert [tuple(map(str, x)) for x in lines] == [
            tuple(map(str, astuple(x))) for x in built.lines
        ]
        assert [tuple(map(str, d)) for d in details] == [tuple(map(str, d)) for d in built.details]


@pytest.mark.parametrize("group_by_account", [False, True])
def test_bulk_stored_statements_read_back_as_built(runtime, db_url, group_by_account) -> None:
    """Customers 1001 (two accounts), 1002 (a credit smaller than its bill) and 1003
    (marketplace, tax exempt), once with lines per service and once per account."""
    config = runtime.tenants["acme"]
    config.invoice_options.group_by_cloud_account = group_by_account
    ingest(runtime, "acme", "aws")
    store_grant(runtime, "1002", "100.0000000001")  # finer than a cent

    report = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    generated = {s.customer_id: s for s in report.generated}
    assert sorted(generated) == ["1001", "1002", "1003"]
    available = {"1001": Decimal(0), "1002": Decimal("100.0000000001"), "1003": Decimal(0)}
    sqlite = db_url.startswith("sqlite")
    for customer, statement in generated.items():
        built = oracle(runtime, customer, available[customer])
        stored = read_back(runtime, statement.id)
        assert_same(stored, built, sqlite)
        assert_same(statement, built, sqlite)  # what the report hands back
        assert (stored.status, stored.revision, stored.number) == ("Draft", 1, None)
        assert stored.pricebook_version == statement.pricebook_version == "aws-standard@2026-01-01"
        assert stored.batch_ids == statement.batch_ids and stored.options == statement.options
        assert (stored.issue_date, stored.due_date) == (statement.issue_date, statement.due_date)
    assert generated["1002"].lines[-2].description == "Credits applied"
    with runtime.db.transaction() as session:
        applied = session.scalars(
            select(m.CreditEntry).where(m.CreditEntry.kind == credits.APPLICATION)
        ).all()
        assert [(a.customer_id, a.statement_id, a.amount) for a in applied] == [
            ("1002", generated["1002"].id, Decimal("100.00"))
        ]
        audit = session.scalars(
            select(m.AuditEntry)
            .where(m.AuditEntry.action == "statement.generate")
            .order_by(m.AuditEntry.id)
        ).all()
        assert [(a.subject, a.detail) for a in audit] == [
            (
                s.id,
                {"customer": s.customer_id, "kind": "usage", "revision": 1, "total": str(s.total)},
            )
            for s in report.generated
        ]


def test_rebuilding_drafts_in_bulk_replaces_rows_and_credit(runtime) -> None:
    """Rebuilding every Draft removes the old lines, details and credit applications
    and stores the new revision's, with the credit applied once."""
    ingest(runtime, "acme", "aws")
    credits.grant(runtime, "acme", "1002", "50", "promo", "test")
    first = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE).generated
    second = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE).generated
    assert [s.revision for s in first] == [1, 1, 1]
    assert [s.revision for s in second] == [2, 2, 2]
    with runtime.db.transaction() as session:
        ids = set(session.scalars(select(m.Statement.id)))
        assert ids == {s.id for s in second}
        assert set(session.scalars(select(m.StatementLine.statement_id))) == ids
        applied = session.scalars(
            select(m.CreditEntry.amount).where(m.CreditEntry.kind == credits.APPLICATION)
        ).all()
        assert applied == [Decimal("50.00")]
        assert credits.balance(session, "acme", "1002", "USD") == Decimal("0.00")


def test_concurrent_builds_of_two_providers_never_spend_a_credit_twice(runtime) -> None:
    """Customer 1002's October bill is 324.12 on each of two provider keys; both builds
    run at once against one 100.00 grant. They are serialised (on PostgreSQL by the
    tenant row lock sync_tenant takes, and the customer locks behind it): 100.00 is
    applied in total, never 200.00."""
    config = runtime.tenants["acme"]
    config.providers["aws-b"] = config.providers["aws"].model_copy(update={"plugin": "aws"})
    for customer in config.customers:
        customer.accounts["aws-b"] = list(customer.accounts["aws"])
        customer.pricebooks["aws-b"] = customer.pricebooks["aws"]
    ingest(runtime, "acme", "aws")
    ingest(runtime, "acme", "aws-b")
    credits.grant(runtime, "acme", "1002", "100.00", "promo", "test")

    def build(provider: str) -> None:
        generate(runtime, "acme", provider, OCTOBER, customer_ids=["1002"], today=AFTER_CLOSE)

    assert run_together(build, ["aws", "aws-b"]) == []
    with runtime.db.transaction() as session:
        totals = sorted(session.scalars(select(m.Statement.total)))
        applied = session.scalars(
            select(m.CreditEntry.amount).where(m.CreditEntry.kind == credits.APPLICATION)
        ).all()
        assert applied == [Decimal("100.00")]
        assert totals == [Decimal("224.12"), Decimal("324.12")]
        assert credits.balance(session, "acme", "1002", "USD") == Decimal("0.00")


def test_the_report_lists_statements_without_holding_their_rows(runtime) -> None:
    """The report's statements are made when read, with their columns as stored then;
    its length, slices and comparison with a list work like a list's."""
    ingest(runtime, "acme", "aws")
    report = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    assert len(report.generated) == 3
    assert [s.customer_id for s in report.generated[1:]] == ["1002", "1003"]
    assert report.generated[-1] is report.generated[2]
    assert report.generated == list(report.generated) and report.generated != []
    rebuilt = generate(runtime, "acme", "aws", OCTOBER, customer_ids=["1002"], today=AFTER_CLOSE)
    assert rebuilt.generated[0].revision == report.generated[1].revision + 1


def _charge(account: str, cost: str) -> CustomerCharge:
    return CustomerCharge(account, "EC2", "Compute", "Box", "Usage", "Usage", False,
                          Decimal(cost), Decimal(cost), Decimal(1))  # fmt: skip


def test_a_parts_charges_go_to_each_holder_of_their_account(monkeypatch) -> None:
    from connector.pipeline.build import parts as build_parts

    # As the database gives them: by batch, then account (runs of one account), over two
    # lists; "shared" is listed by two customers of the part.
    stored = [
        [_charge("a", "1"), _charge("a", "2"), _charge("b", "4"), _charge("shared", "3")],
        [_charge("a", "7"), _charge("b", "5"), _charge("shared", "8")],
    ]
    asked = []

    def customer_charges(session, batch_ids, accounts):
        asked.append((batch_ids, sorted(accounts)))
        return iter(stored)

    monkeypatch.setattr(build_parts.bulk, "customer_charges", customer_charges)
    orders = [
        build_parts.Order(name, accounts, None, None, Decimal(1))
        for name, accounts in (("C1", ("a", "shared")), ("C2", ("b", "shared")), ("C3", ("c",)))
    ]
    part = build_parts.Part((1, 2), orders, upfront_apart=False, text_money=True)
    found = build_parts._charges(None, part)
    assert asked == [((1, 2), ["a", "b", "c", "shared"])]
    assert [[str(x.cost) for x in charges] for charges in found] == [
        ["1", "2", "3", "7", "8"],
        ["4", "3", "5", "8"],
        [],
    ]


def test_customers_currencies_and_the_spend_no_customer_claims(monkeypatch) -> None:
    from connector.pipeline.build import store as build_store

    asked = []

    def account_costs(session, batch_ids, accounts):
        asked.append(sorted(accounts))
        return {("nobody", "USD"): Decimal("5.75")}

    monkeypatch.setattr(build_store.bulk, "account_costs", account_costs)
    monkeypatch.setattr(
        build_store.bulk,
        "account_currencies",
        lambda session, ids: {
            "a": {"USD"}, "b": {"USD"}, "shared": {"EUR"}, "nobody": {"USD"}, "not-built": {"USD"}
        },
    )  # fmt: skip
    found, unclaimed = build_store.customer_currencies(
        None,
        [1, 2],
        {"C1": ["a", "shared"], "C2": ["b"], "C3": ["none"]},
        claimed={"a", "b", "shared", "none", "not-built"},
    )
    assert found == {"C1": {"USD", "EUR"}, "C2": {"USD"}}  # C3's account has no charges
    assert asked == [["nobody"]]  # only unclaimed accounts' charges are read
    assert unclaimed == {("nobody", "USD"): Decimal("5.75")}
