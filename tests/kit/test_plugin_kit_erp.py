"""connector.plugin_kit.sinks and .invoice_lines: what the ERP sinks share."""

from __future__ import annotations

import dataclasses
import sys
import types
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.contracts import PluginError, StatementDocument, StatementLine
from connector.plugin_kit.invoice_lines import (
    TAXED_KINDS,
    allocate,
    check_total,
    describe,
    in_minor_units,
    invoice_lines,
    tax_shares,
)
from connector.plugin_kit.sinks import (
    OAuthConnection,
    batches,
    draft_refusal,
    erp_errors,
    failed,
    number_taken,
    source_of,
)
from connector.testing import approved_documents

CENT = Decimal("0.01")


@pytest.fixture
def document() -> StatementDocument:
    return approved_documents()["open"]


def line(position: int, kind: str, amount: str, account: str | None = None) -> StatementLine:
    return StatementLine(position, kind, f"line {position}", Decimal(amount), account_id=account)


def test_a_draft_and_a_number_given_twice_are_refused(document: StatementDocument) -> None:
    draft = dataclasses.replace(document, number=None)
    assert draft_refusal(draft) == (
        f"statement {draft.statement_id} is a draft without an invoice number; "
        "approve it before pushing"
    )
    assert draft_refusal(draft, "exporting").endswith("approve it before exporting")
    assert draft_refusal(document) is None
    numbers = {document.number or "": "st-1"}
    assert number_taken(document, numbers, "here") == (
        f"invoice number {document.number} is also used by statement st-1 here"
    )
    assert number_taken(document, {}, "here") is None


def test_a_failed_result_keeps_the_remote_id_and_permanence(document: StatementDocument) -> None:
    result = failed(document, "refused", "INV-9", permanent=True)
    assert (result.statement_id, result.remote_id, result.ok) == (
        document.statement_id,
        "INV-9",
        False,
    )
    assert result.permanent and result.message == "refused"


def test_batches_keep_order_and_size() -> None:
    assert [list(b) for b in batches(list(range(7)), 3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(batches([], 3)) == []


def test_erp_errors_become_plugin_errors_in_the_erps_words() -> None:
    with (
        pytest.raises(PluginError, match="^ERP said: 500$") as raised,
        erp_errors(KeyError, lambda exc: f"ERP said: {exc.args[0]}"),
    ):
        raise KeyError(500)
    assert isinstance(raised.value.__cause__, KeyError)
    with pytest.raises(ValueError), erp_errors(KeyError, str):
        raise ValueError("not the ERP's")


def test_source_of_names_the_customer_mapping_or_the_setting(document: StatementDocument) -> None:
    mapped = dataclasses.replace(document, erp_mappings={"tax_type": "OUTPUT2"})
    assert source_of(mapped, "tax_type") == (
        f"erp mapping 'tax_type' of customer {document.customer_id}"
    )
    assert source_of(document, "item_ref.service", "item_refs.service") == (
        "erp.settings.item_refs.service"
    )


def test_an_oauth_sink_delegates_to_its_oauth_module(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("kit_test_oauth")
    module.token_key = lambda settings: f"foo:{settings['org']}"  # type: ignore[attr-defined]
    module.authorization_url = lambda settings, state: f"https://foo/auth?state={state}"  # type: ignore[attr-defined]
    module.exchange_code = lambda settings, url, expected_state: {
        "code": url,
        "state": expected_state,
    }  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kit_test_oauth", module)

    class FooSink(OAuthConnection):
        oauth_module = "kit_test_oauth"

    assert FooSink.token_key({"org": "42"}) == "foo:42"
    assert FooSink.authorization_url({}, "s1") == "https://foo/auth?state=s1"
    assert FooSink.exchange_code({}, "https://back?code=c", "s1") == {
        "code": "https://back?code=c",
        "state": "s1",
    }


def test_invoice_lines_leave_tax_out_in_position_order(document: StatementDocument) -> None:
    lines = [line(3, "service", "1.00"), line(1, "tax", "0.10"), line(2, "credit", "-1.00")]
    assert [x.position for x in invoice_lines(dataclasses.replace(document, lines=lines))] == [2, 3]


def test_a_line_names_its_account_unless_its_description_does() -> None:
    assert describe(line(1, "service", "1", "111122223333")) == "line 1 (account 111122223333)"
    grouped = dataclasses.replace(line(1, "service", "1", "1111"), description="EC2 1111")
    assert describe(grouped) == "EC2 1111"


def test_the_first_amount_finer_than_the_minor_unit_is_refused(document: StatementDocument) -> None:
    fine = dataclasses.replace(
        document, lines=[line(1, "service", "1.000000"), line(2, "service", "2.005")]
    )
    with pytest.raises(PluginError) as raised:
        in_minor_units(fine, CENT, "Foo would round it")
    assert str(raised.value) == (
        f"statement {document.number}: line 2 is 2.005 {document.currency}, finer than the "
        "currency's minor unit 0.01; Foo would round it"
    )
    written = in_minor_units(dataclasses.replace(fine, lines=fine.lines[:1]), CENT, "x")
    assert str(written.lines[0].amount) == "1.00"


def test_lines_that_do_not_make_the_total_are_refused(document: StatementDocument) -> None:
    lines = [line(1, "service", "10.00")]
    off = dataclasses.replace(document, tax=Decimal("1.00"), total=Decimal("12.00"))
    with pytest.raises(PluginError, match=r"lines 10\.00 plus tax 1\.00 make 11\.00, not the "
                       r"total 12\.00; Foo would book another$"):  # fmt: skip
        check_total(off, lines, "Foo would book another")
    check_total(dataclasses.replace(off, total=Decimal("11.00")), lines, "unused")


def test_the_remainder_goes_to_the_largest_line_or_the_last() -> None:
    weights = [Decimal("10.00"), Decimal("10.00"), Decimal("10.00")]
    assert allocate(Decimal("1.00"), weights, CENT) == [
        Decimal(x) for x in ("0.34", "0.33", "0.33")
    ]
    assert allocate(Decimal("1.00"), weights, CENT, remainder="last") == [
        Decimal(x) for x in ("0.33", "0.33", "0.34")
    ]


@given(
    tax=st.decimals(min_value=-1000, max_value=1000, places=2),
    amounts=st.lists(st.decimals(min_value=-500, max_value=5000, places=2), min_size=1, max_size=8),
    remainder=st.sampled_from(["largest", "last"]),
)
def test_tax_shares_add_up_to_the_tax_on_taxed_lines_only(tax, amounts, remainder) -> None:
    document = approved_documents()["open"]
    kinds = sorted(TAXED_KINDS) + ["marketplace", "credit"]
    lines = [line(i, kinds[i % len(kinds)], str(a)) for i, a in enumerate(amounts)]
    document = dataclasses.replace(document, tax=tax)
    taxed = {i for i, x in enumerate(lines) if x.kind in TAXED_KINDS and x.amount != 0}
    if tax == 0:
        assert tax_shares(document, lines, "Foo", CENT, remainder=remainder) == {}
    elif not taxed:
        with pytest.raises(PluginError, match="no taxed line .* to carry it in Foo"):
            tax_shares(document, lines, "Foo", CENT, remainder=remainder)
    else:
        shares = tax_shares(document, lines, "Foo", CENT, remainder=remainder)
        assert set(shares) == taxed
        assert sum(shares.values(), Decimal(0)) == tax
