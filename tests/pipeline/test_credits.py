"""The credit ledger: what a grant accepts, balances, applications, releases, races."""

from __future__ import annotations

import dataclasses
import itertools
from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from connector.domain.statement import CustomerCharge, StatementOptions, build_statement
from connector.domain.totals import Adjustments, SupportTerms
from connector.pipeline.credits import (
    CreditBalance,
    CreditError,
    apply_credit,
    balance,
    balances,
    entries,
    grant,
    lock_customer,
    parse_amount,
    release,
)
from connector.storage import models as m
from connector.storage.db import Database
from tests.pipeline.together import run_together

D = Decimal


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("150", D("150")),
        ("150.00", D("150.00")),
        ("0.5", D("0.5")),
        ("0.0000000001", D("0.0000000001")),  # ten places: the most accepted
        (" 75.25 ", D("75.25")),  # surrounding blanks from a copy and paste
    ],
)
def test_parse_amount_accepts_plain_positive_numbers(text: str, amount: Decimal) -> None:
    assert parse_amount(text) == amount


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1,000", "no thousands separators: write 1000"),
        ("12,345,678.90", "no thousands separators: write 12345678.90"),
        ("1,5", "no commas: use '.' for decimals"),
        ("-5", "no signs: a credit is always positive"),
        ("+5", "no signs: a credit is always positive"),
        ("0", "must be more than zero"),
        ("0.00", "must be more than zero"),
        ("", "must be a plain number like 150.00"),
        ("abc", "must be a plain number like 150.00"),
        ("1e3", "must be a plain number like 150.00"),
        ("NaN", "must be a plain number like 150.00"),
        ("Infinity", "must be a plain number like 150.00"),
        (".5", "must be a plain number like 150.00"),
        ("\u0661\u0662", "must be a plain number like 150.00"),  # Arabic-Indic 12
        ("0.00000000001", "11 decimal places; at most 10"),
        ("1" * 16, "too large"),
    ],
)
def test_parse_amount_refuses_with_a_reason_naming_the_input(text: str, reason: str) -> None:
    with pytest.raises(CreditError) as refused:
        parse_amount(text)
    assert reason in str(refused.value)
    assert repr(text) in str(refused.value)


def test_grant_is_stored_with_who_and_why_and_audited(runtime) -> None:
    entry = grant(
        runtime, "acme", "1001", "150.00", "AWS promo credit, account 111111111111", "ann"
    )
    assert (entry.kind, entry.amount, entry.currency) == ("grant", D("150.00"), "USD")
    assert entry.created_by == "ann" and entry.created_at is not None
    with runtime.db.transaction() as session:
        audit = session.scalars(select(m.AuditEntry)).one()
        assert (audit.action, audit.actor, audit.subject) == (
            "credit.grant",
            "ann",
            "customer:1001",
        )
        assert audit.detail["amount"] == "150.00"
        assert [e.id for e in entries(session, "acme", "1001")] == [entry.id]


@pytest.mark.parametrize("comment", ["", "   "])
def test_grant_requires_a_comment(runtime, comment: str) -> None:
    with pytest.raises(CreditError, match="a comment is required"):
        grant(runtime, "acme", "1001", "150", comment, "ann")
    with runtime.db.transaction() as session:
        assert session.scalars(select(m.CreditEntry)).all() == []


def test_grant_requires_a_customer_of_the_tenant(runtime) -> None:
    with pytest.raises(CreditError, match="tenant acme has no customer 9999"):
        grant(runtime, "acme", "9999", "150", "AWS credit", "ann")


def test_grant_refuses_a_bad_amount_and_stores_nothing(runtime) -> None:
    with pytest.raises(CreditError, match="write 1000"):
        grant(runtime, "acme", "1001", "1,000", "AWS credit", "ann")
    with runtime.db.transaction() as session:
        assert session.scalars(select(m.CreditEntry)).all() == []


def test_balance_is_grants_minus_applications(runtime) -> None:
    """Grants 150.00 + 25.50 = 175.50; applied 40.25 + 35.25 = 75.50; left 100.00."""
    grant(runtime, "acme", "1001", "150.00", "AWS credit", "ann")
    grant(runtime, "acme", "1001", "25.50", "SoftLayer credit", "ann")
    grant(runtime, "acme", "1002", "999", "another customer's credit", "ann")
    with runtime.db.transaction() as session:
        apply_credit(session, "acme", "1001", "USD", "s-1", D("40.25"), "system")
        apply_credit(session, "acme", "1001", "USD", "s-2", D("35.25"), "system")
        apply_credit(session, "acme", "1001", "USD", "s-3", D("0"), "system")  # records nothing
    with runtime.db.transaction() as session:
        assert balance(session, "acme", "1001", "USD") == D("100.00")
        assert balance(session, "acme", "1001", "EUR") == D("0")
        assert balances(session, "acme")[0] == CreditBalance(
            "1001", "USD", D("175.50"), D("75.50"), D("100.00")
        )
        assert [(b.customer_id, b.balance) for b in balances(session, "acme")] == [
            ("1001", D("100.00")),
            ("1002", D("999")),
        ]
        kinds = [(e.kind, e.amount) for e in entries(session, "acme", "1001")]
    assert sorted(kinds) == sorted(
        [
            ("grant", D("150.00")),
            ("grant", D("25.50")),
            ("application", D("40.25")),
            ("application", D("35.25")),
        ]
    )


def test_applying_more_than_the_balance_is_refused(runtime) -> None:
    """Grant 100.00, apply 60.00 → 40.00 left, so 40.01 is refused and nothing is written."""
    grant(runtime, "acme", "1001", "100.00", "AWS credit", "ann")
    with runtime.db.transaction() as session:
        apply_credit(session, "acme", "1001", "USD", "s-1", D("60.00"), "system")
    with (
        pytest.raises(CreditError, match="40.00 USD of credit left"),
        runtime.db.transaction() as session,
    ):
        apply_credit(session, "acme", "1001", "USD", "s-2", D("40.01"), "system")
    with (
        pytest.raises(CreditError, match="cannot be negative"),
        runtime.db.transaction() as session,
    ):
        apply_credit(session, "acme", "1001", "USD", "s-2", D("-1"), "system")
    with runtime.db.transaction() as session:
        assert balance(session, "acme", "1001", "USD") == D("40.00")


def test_release_returns_a_statements_credits(runtime) -> None:
    """Grant 100.00; s-1 uses 30.00 and s-2 uses 50.00 → 20.00; releasing s-2 → 70.00."""
    grant(runtime, "acme", "1001", "100.00", "AWS credit", "ann")
    with runtime.db.transaction() as session:
        apply_credit(session, "acme", "1001", "USD", "s-1", D("30.00"), "system")
        apply_credit(session, "acme", "1001", "USD", "s-2", D("50.00"), "system")
    with runtime.db.transaction() as session:
        assert release(session, "s-2") == D("50.00")
        assert release(session, "s-2") == D("0")  # released once only
    with runtime.db.transaction() as session:
        assert balance(session, "acme", "1001", "USD") == D("70.00")


def test_lock_customer_refuses_an_unknown_customer(runtime) -> None:
    grant(runtime, "acme", "1001", "1", "sync the tenant", "ann")
    with (
        pytest.raises(CreditError, match="no stored customer 9999"),
        runtime.db.transaction() as session,
    ):
        lock_customer(session, "acme", "9999")


def test_concurrent_builds_never_spend_a_credit_twice(runtime) -> None:
    """Two builds each want min(balance, 60.00) of a 100.00 grant at the same moment.

    Serialised, the first takes 60.00 and the second the 40.00 left: 100.00 applied,
    0.00 left. Without the lock both would read 100.00 and apply 120.00 in total.
    """
    grant(runtime, "acme", "1001", "100.00", "AWS credit", "ann")

    def build(statement_id: str) -> None:
        with runtime.db.transaction() as session:
            lock_customer(session, "acme", "1001")
            left = balance(session, "acme", "1001", "USD")
            apply_credit(session, "acme", "1001", "USD", statement_id, min(left, D("60.00")), "t")

    assert run_together(build, ["s-1", "s-2"]) == []
    with runtime.db.transaction() as session:
        applied = sorted(
            session.scalars(select(m.CreditEntry.amount).where(m.CreditEntry.kind == "application"))
        )
        assert sum(applied) == D("100.00")
        assert applied == [D("40.00"), D("60.00")]
        assert balance(session, "acme", "1001", "USD") == D("0")


# --------------------------------------------------------------------------- property


@pytest.fixture(scope="module")
def ledger_db(tmp_path_factory: pytest.TempPathFactory):
    """One SQLite ledger for every example; each example uses a customer of its own."""
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'ledger.db'}")
    with db.transaction() as session:
        session.add(m.Tenant(id="t", name="T", next_invoice_number=1))
    yield db
    db.dispose()


CUSTOMER_NUMBERS = itertools.count(1)
amounts = st.decimals(min_value=D("0.01"), max_value=D("500"), places=2)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), amounts),
        st.tuples(st.just("apply"), st.integers(0, 4), amounts),
        st.tuples(st.just("release"), st.integers(0, 4)),
    ),
    max_size=25,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps)
def test_credits_are_conserved(ledger_db: Database, steps: list[tuple]) -> None:
    """After any grants, applications and releases: Σ grants = Σ applied + balance ≥ 0."""
    customer = f"c{next(CUSTOMER_NUMBERS)}"
    with ledger_db.transaction() as session:
        session.add(m.Customer(tenant_id="t", id=customer, name="C", invoice_currency="USD"))
    granted, used = D(0), {}
    for step in steps:
        with ledger_db.transaction() as session:
            if step[0] == "grant":
                session.add(
                    m.CreditEntry(
                        tenant_id="t",
                        customer_id=customer,
                        kind="grant",
                        amount=step[1],
                        currency="USD",
                        comment="x",
                        created_by="h",
                    )
                )
                granted += step[1]
            elif step[0] == "apply":
                statement = f"{customer}-s{step[1]}"
                lock_customer(session, "t", customer)
                left = balance(session, "t", customer, "USD")
                if step[2] > left:
                    with pytest.raises(CreditError):
                        apply_credit(session, "t", customer, "USD", statement, step[2], "h")
                take = min(left, step[2])
                apply_credit(session, "t", customer, "USD", statement, take, "h")
                used[statement] = used.get(statement, D(0)) + take
            else:
                statement = f"{customer}-s{step[1]}"
                assert release(session, statement) == used.pop(statement, D(0))
        with ledger_db.transaction() as session:
            left = balance(session, "t", customer, "USD")
            (row,) = [b for b in balances(session, "t") if b.customer_id == customer] or [None]
        applied = sum(used.values(), D(0))
        assert left == granted - applied >= 0
        if row is not None:
            assert row.granted == granted == row.applied + row.balance
            assert row.applied == applied


charges = st.lists(
    st.builds(
        CustomerCharge,
        account_id=st.sampled_from(["111", "222"]),
        service_name=st.just("svc"),
        service_category=st.sampled_from(["Amazon EC2", "Amazon S3", "AWS Lambda"]),
        sku=st.just("a"),
        line_item_type=st.just("Usage"),
        charge_category=st.just("Usage"),
        is_marketplace=st.booleans(),
        cost=st.decimals(min_value=0, max_value=2000, places=10),
        list_cost=st.just(D(0)),
        quantity=st.just(D(1)),
    ),
    max_size=12,
)
run_options = st.builds(
    StatementOptions,
    currency=st.just("USD"),
    group_by_account=st.booleans(),
    include_marketplace=st.booleans(),
    add_rounding_adjustments=st.booleans(),
    adjustments=st.builds(
        Adjustments,
        discount_percent=st.decimals(min_value=0, max_value=30, places=1),
        support=st.none() | st.just(SupportTerms([(D(1000), D(10)), (None, D(5))], D(25))),
        credits_before_tax=st.booleans(),
        credits_for_marketplace=st.booleans(),
        tax_name=st.just("Tax"),
        tax_rate=st.sampled_from([None, D("0.0825"), D("0.2")]),
        tax_rounding=st.sampled_from(["statement", "line"]),
    ),
)
# A grant is a positive amount of up to 10 decimal places (parse_amount).
grants = st.lists(
    st.decimals(min_value=D("0.01"), max_value=D("3000"), places=2)
    | st.decimals(min_value=D("0.0000000001"), max_value=D("50"), places=10),
    min_size=1,
    max_size=3,
)


def eligible(lines, adj: Adjustments, tax: Decimal) -> Decimal:
    """What credits may pay on a statement, from its lines (DESIGN.md, "Order of
    calculation"): the taxable base B, plus the tax when credits come after it, plus the
    marketplace fees M when credits may pay them; never below zero."""
    base = sum((x.amount for x in lines if x.kind in ("service", "rounding", "discount",
                                                       "support")), D(0))  # fmt: skip
    marketplace = sum((x.amount for x in lines if x.kind == "marketplace"), D(0))
    amount = max(base, D(0)) if adj.credits_before_tax else base + tax
    return max(amount + (marketplace if adj.credits_for_marketplace else D(0)), D(0))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    grants=grants,
    statements=st.lists(st.tuples(charges, run_options), min_size=1, max_size=4),
    deleted=st.sets(st.integers(0, 3), max_size=2),
)
def test_built_statements_never_spend_more_credit_than_the_balance(
    ledger_db: Database, grants: list[Decimal], statements: list[tuple], deleted: set[int]
) -> None:
    """Statements built one after another against one customer's ledger, each with the
    balance left as its credit: each applies min(balance in whole cents, what it may
    pay), never more than the balance nor than its eligible amount, and is never due a
    negative total; the balance never goes negative; deleting drafts gives their credit
    back; throughout, Σ grants = Σ applied + balance."""
    customer = f"c{next(CUSTOMER_NUMBERS)}"
    with ledger_db.transaction() as session:
        session.add(m.Customer(tenant_id="t", id=customer, name="C", invoice_currency="USD"))
        session.add_all(
            m.CreditEntry(tenant_id="t", customer_id=customer, kind="grant", amount=amount,
                          currency="USD", comment="x", created_by="h")
            for amount in grants
        )  # fmt: skip
    granted = sum(grants, D(0))
    for number, (bill, options) in enumerate(statements):
        statement = f"{customer}-s{number}"
        with ledger_db.transaction() as session:
            lock_customer(session, "t", customer)
            left = balance(session, "t", customer, "USD")
            adj = dataclasses.replace(options.adjustments, credit_available=left)
            built = build_statement(bill, None, dataclasses.replace(options, adjustments=adj))
            payable = eligible(built.lines, adj, built.tax)
            cents = left.quantize(D("0.01"), ROUND_DOWN)
            assert built.credits == min(cents, payable)
            assert D(0) <= built.credits <= left and built.credits <= payable
            assert built.total >= 0
            apply_credit(session, "t", customer, "USD", statement, built.credits, "h")
        if number in deleted:  # the draft is deleted: its credit comes back
            with ledger_db.transaction() as session:
                assert release(session, statement) == built.credits
        with ledger_db.transaction() as session:
            now = balance(session, "t", customer, "USD")
            [row] = [b for b in balances(session, "t") if b.customer_id == customer]
        assert now >= 0
        assert now == left - (D(0) if number in deleted else built.credits)
        assert row.granted == granted == row.applied + row.balance
