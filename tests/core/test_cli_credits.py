"""`connector credits` and `connector statements set-status`: output and exit codes."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tests.core.conftest import build_october, run


@pytest.fixture
def config(example_config: str) -> str:
    return example_config


ADD = ("credits", "add", "--tenant", "acme", "--customer", "1001", "--comment", "AWS credit")


def add(config: str, customer: str, amount: str, comment: str = "AWS credit, 111111111111"):
    return run(
        "--config",
        config,
        "credits",
        "add",
        "--tenant",
        "acme",
        "--customer",
        customer,
        "--amount",
        amount,
        "--comment",
        comment,
    )


def test_credits_add_prints_the_new_balance(config: str) -> None:
    """150.00 then 25.5: the balance is 175.50."""
    first = add(config, "1001", "150.00")
    assert first.exit_code == 0, first.output
    assert "granted 150.00 USD to customer 1001; balance 150.00 USD" in first.output
    second = add(config, "1001", "25.5")
    assert "balance 175.50 USD" in second.output


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("1,000", "no thousands separators: write 1000"),
        ("-5", "no signs: a credit is always positive"),
        ("0", "must be more than zero"),
        ("abc", "must be a plain number like 150.00"),
    ],
)
def test_credits_add_refuses_a_bad_amount_with_exit_5(
    config: str, amount: str, reason: str
) -> None:
    result = add(config, "1001", amount)
    assert result.exit_code == 5
    assert reason in " ".join(result.output.split())


def test_credits_add_refuses_a_blank_comment_and_an_unknown_customer(config: str) -> None:
    blank = add(config, "1001", "10", comment=" ")
    assert blank.exit_code == 5 and "a comment is required" in blank.output
    unknown = add(config, "9999", "10")
    assert unknown.exit_code == 5 and "tenant acme has no customer 9999" in unknown.output


def test_credits_list_json_gives_plain_amounts_per_customer(config: str, tmp_path) -> None:
    """1001: 100 + 50.25 = 150.25 granted; 1003: 0.0000000001 granted (no exponent), a
    grant finer than a cent as the ledger may hold it from before such grants were
    refused (written to the database directly)."""
    add(config, "1003", "1")
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE credit_entries SET amount = '0.0000000001'"))
    engine.dispose()
    add(config, "1001", "100")
    add(config, "1001", "50.25")
    listed = run("--config", config, "credits", "list", "--tenant", "acme", "--json")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output) == [
        {
            "customer": "1001",
            "currency": "USD",
            "granted": "150.25",
            "applied": "0.00",
            "balance": "150.25",
        },
        {
            "customer": "1003",
            "currency": "USD",
            "granted": "0.0000000001",
            "applied": "0.00",
            "balance": "0.0000000001",
        },
    ]
    one = run(
        "--config", config, "credits", "list", "--tenant", "acme", "--customer", "1003", "--json"
    )
    assert [row["customer"] for row in json.loads(one.output)] == ["1003"]
    unknown = run("--config", config, "credits", "list", "--tenant", "acme", "--customer", "77")
    assert unknown.exit_code == 5 and "tenant acme has no customer 77\n" in unknown.output


def test_statements_set_status_legal_and_illegal(config: str) -> None:
    draft = build_october(config)[0]["id"]
    refused = run(
        "--config", config, "statements", "set-status", "--tenant", "acme", "Closed", draft
    )
    assert refused.exit_code == 5
    assert "only by approval" in " ".join(refused.output.split())
    assert (
        run("--config", config, "statements", "approve", "--tenant", "acme", "--all").exit_code == 0
    )

    late = run(
        "--config", config, "statements", "set-status", "--tenant", "acme", "Past Due", "ACME-01001"
    )
    assert late.exit_code == 0, late.output
    paid = run(
        "--config", config, "statements", "set-status", "--tenant", "acme", "Closed", "ACME-01001"
    )
    assert paid.exit_code == 0, paid.output
    again = run(
        "--config", config, "statements", "set-status", "--tenant", "acme", "Past Due", "ACME-01001"
    )
    assert again.exit_code == 5
    assert "ACME-01001 is Closed, which is final" in " ".join(again.output.split())
    listing = json.loads(
        run("--config", config, "statements", "list", "--tenant", "acme", "--json").output
    )
    assert {s["number"]: s["status"] for s in listing} == {
        "ACME-01001": "Closed",
        "ACME-01002": "Open",
        "ACME-01003": "Open",
    }
    # Open is reached by approval only, so the command does not offer it.
    assert (
        run(
            "--config", config, "statements", "set-status", "--tenant", "acme", "Open", "ACME-01002"
        ).exit_code
        == 2
    )


def test_credits_add_with_the_same_idempotency_key_grants_once(config: str) -> None:
    """Regression: a retried `credits add` granted the credit again."""
    args = ("--idempotency-key", "ticket-4711")
    first = run("--config", config, *ADD, "--amount", "150.00", *args)
    again = run("--config", config, *ADD, "--amount", "150.00", *args)
    assert first.exit_code == again.exit_code == 0, again.output
    assert "granted 150.00 USD to customer 1001; balance 150.00 USD" in first.output
    text = " ".join(again.output.split())
    assert "already granted under idempotency key ticket-4711" in text
    assert "nothing granted now" in text

    listed = run("--config", config, "credits", "list", "--tenant", "acme", "--json")
    assert [c["granted"] for c in json.loads(listed.output)] == ["150.00"]

    other = run("--config", config, *ADD, "--amount", "15.00", *args)
    assert other.exit_code == 5
    assert "was already used for another credit grant" in " ".join(other.output.split())


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        (("--amount", "10", "--currency", "XYZ"), "currency 'XYZ' is not an ISO 4217"),
        (("--amount", "10", "--currency", "EUR"), "customer 1001 is invoiced in USD"),
        (("--amount", "0.001"), "'0.001' is finer than USD's minor unit"),
    ],
)
def test_credits_add_refuses_a_bad_currency_or_a_too_fine_amount_with_exit_5(
    config: str, options: tuple[str, ...], reason: str
) -> None:
    result = run("--config", config, *ADD, *options)
    assert result.exit_code == 5
    assert reason in " ".join(result.output.split())
