"""The kit's checks on small hand-made plugins: what passes, what fails, and the message."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import ClassVar

import pytest

from connector.contracts import (
    BillingPeriod,
    CanonicalCharge,
    ChargeBatch,
    ChargeCategory,
    PluginError,
    PushResult,
)
from connector.testing import ConformanceError, MemoryTokenStore, sample_documents
from connector.testing.failures import first_difference, floats_in
from connector.testing.provider import (
    check_batches,
    check_categories_and_currencies,
    check_charges_in_period,
    check_money_is_decimal,
    check_period_filter,
    check_provider_class,
    check_stable_hash,
)
from connector.testing.renderer import (
    check_identical,
    check_renderer_class,
    check_renders,
    check_unknown_format,
    render_or_refusal,
)
from connector.testing.sink import check_invoice_count, check_results, check_same_remote_ids

OCTOBER = BillingPeriod(dt.date(2026, 10, 1), dt.date(2026, 11, 1))
NOVEMBER = BillingPeriod(dt.date(2026, 11, 1), dt.date(2026, 12, 1))


def charge(**fields) -> CanonicalCharge:
    values = dict(
        billing_account_id="payer",
        sub_account_id="acct",
        charge_category=ChargeCategory.USAGE,
        service_name="svc",
        service_category="Compute",
        sku="sku",
        billed_cost=Decimal("1.10"),
        list_cost=Decimal("1.20"),
        billing_currency="USD",
        charge_period_start=dt.date(2026, 10, 3),
        charge_period_end=dt.date(2026, 10, 4),
    )
    values.update(fields)
    return CanonicalCharge(**values)


def batch(*charges: CanonicalCharge, period: BillingPeriod = OCTOBER, digest="h1") -> ChargeBatch:
    return ChargeBatch(period=period, source="mem", source_hash=digest, charges=list(charges))


def fails(check, *args, match: str) -> None:
    with pytest.raises(ConformanceError, match=match):
        check(*args)


def test_first_difference_names_the_first_differing_byte() -> None:
    """b"abcXef" and b"abcYef" part at index 3; a prefix parts where the shorter ends."""
    assert first_difference(b"abcXef", b"abcYef").startswith("outputs differ at byte 3 ")
    assert first_difference(b"abc", b"abcd").startswith(
        "outputs differ at byte 3 (lengths 3 and 4)"
    )


def test_floats_are_found_inside_nested_values_by_path() -> None:
    value = {"lines": [Decimal(1), {"amount": 0.1}], "ok": "x"}
    assert list(floats_in(value, "doc")) == [("doc['lines'][1]['amount']", 0.1)]
    assert list(floats_in(charge(), "charge")) == []


def test_a_charge_on_the_last_day_of_the_period_is_inside_it() -> None:
    """Half-open period [10-01, 11-01): a charge for 10-31 ends on 11-01, still inside."""
    last_day = charge(charge_period_start=dt.date(2026, 10, 31), charge_period_end=OCTOBER.end)
    check_charges_in_period("provider 'p'", [batch(last_day)])


def test_a_charge_a_day_before_the_period_is_outside() -> None:
    early = charge(charge_period_start=dt.date(2026, 9, 30))
    fails(check_charges_in_period, "provider 'p'", [batch(early)], match="from 2026-09-30 to")


def test_a_datetime_instead_of_a_date_is_refused() -> None:
    timed = charge(charge_period_start=dt.datetime(2026, 10, 3, 12))
    fails(check_charges_in_period, "p", [batch(timed)], match="must be a datetime.date")


def test_no_batches_at_all_is_a_failure_saying_what_to_give_the_kit() -> None:
    fails(check_batches, "provider 'p'", [], match="yielded no batches; give the kit settings")


def test_two_batches_for_one_period_are_refused() -> None:
    fails(check_batches, "p", [batch(charge()), batch(charge())], match="both for 2026-10")


@pytest.mark.parametrize("field", ["billed_cost", "list_cost", "quantity"])
def test_a_float_in_any_money_field_is_named(field: str) -> None:
    fails(check_money_is_decimal, "p", [batch(charge(**{field: 2.5}))], match=f"{field} is float")


def test_a_nan_cost_is_not_money() -> None:
    nan = charge(billed_cost=Decimal("NaN"))
    fails(check_money_is_decimal, "p", [batch(nan)], match="not a finite amount")


@pytest.mark.parametrize("currency", ["usd", "US", "US$", "USDX"])
def test_currencies_must_be_three_capital_letters(currency: str) -> None:
    bad = charge(billing_currency=currency)
    fails(check_categories_and_currencies, "p", [batch(bad)], match="not a 3-letter ISO 4217")


def test_an_unknown_charge_category_lists_the_focus_ones() -> None:
    bad = charge(charge_category="Fee")
    fails(check_categories_and_currencies, "p", [batch(bad)], match="Usage, Purchase, Tax")


def test_a_changed_source_hash_for_unchanged_data_fails() -> None:
    fails(
        check_stable_hash, "p", [batch(charge())], [batch(charge(), digest="h2")],
        match="source_hash of 2026-10 changed",
    )  # fmt: skip
    check_stable_hash("p", [batch(charge())], [batch(charge())])


def test_a_period_filter_returning_another_period_or_fewer_charges_fails() -> None:
    both = [batch(charge()), batch(charge(charge_period_start=dt.date(2026, 11, 2),
            charge_period_end=dt.date(2026, 11, 3)), period=NOVEMBER)]  # fmt: skip
    check_period_filter("p", both, OCTOBER, [both[0]])
    fails(check_period_filter, "p", both, OCTOBER, both, match="yielded a batch for '2026-11'")
    fails(check_period_filter, "p", both, OCTOBER, [], match="returned 0 charges .* found 1")


def test_a_class_without_fetch_does_not_satisfy_the_provider_protocol() -> None:
    class NoFetch:
        name = "nofetch"
        settings_model = None

    fails(check_provider_class, NoFetch, match="missing fetch")


def test_a_sink_returning_results_for_other_statements_fails() -> None:
    documents = list(sample_documents().values())[:2]
    wrong = [PushResult(documents[0].statement_id, "1", True)]
    fails(check_results, "sink 's'", documents, wrong, match="exactly one PushResult per")


def test_a_refusal_without_a_message_fails() -> None:
    draft = sample_documents()["draft"]
    silent = [PushResult(draft.statement_id, None, False, "")]
    fails(check_results, "sink 's'", [draft], silent, match="refused .ok=False. with no message")


def test_invoice_counts_and_remote_ids_must_match_one_invoice_per_statement() -> None:
    check_invoice_count("sink 's'", 1, 1, "pushed twice")
    fails(check_invoice_count, "sink 's'", 2, 1, "pushed twice", match="created 2 invoices for 1")
    first, second = [PushResult("a", "INV-1", True)], [PushResult("a", "INV-2", True)]
    fails(check_same_remote_ids, "sink 's'", first, second, match="'INV-1', then 'INV-2'")


def test_the_memory_token_store_saves_copies_under_a_lock() -> None:
    store = MemoryTokenStore()
    token = {"refresh_token": "r1"}
    with store.lock("xero:1"):
        assert store.load("xero:1") is None
        store.save("xero:1", token)
    token["refresh_token"] = "changed"
    assert store.load("xero:1") == {"refresh_token": "r1"}


class GoodRenderer:
    name: ClassVar[str] = "good"
    formats: ClassVar[dict[str, str]] = {"txt": ".txt"}

    def render(self, document, fmt):
        if fmt != "txt":
            raise PluginError(f"no format {fmt!r}")
        if document.number is None:
            raise PluginError("a Draft has no number to print")
        return f"{document.number} {document.total}".encode()


def test_a_renderer_may_refuse_a_draft_but_not_the_open_statement() -> None:
    samples = sample_documents()
    refusal = render_or_refusal("r", GoodRenderer, samples["draft"], "txt", "draft")
    assert isinstance(refusal, PluginError)
    check_renders("r", "draft", refusal, "txt")
    fails(check_renders, "renderer 'good'", "open", refusal, "txt", match="must render")


def test_a_renderer_raising_something_else_than_plugin_error_fails() -> None:
    class Crashing(GoodRenderer):
        def render(self, document, fmt):
            raise KeyError("lines")

    open_doc = sample_documents()["open"]
    fails(render_or_refusal, "r", Crashing, open_doc, "txt", "open", match="raised KeyError")
    fails(check_unknown_format, "r", Crashing, match="raised KeyError .* not PluginError")
    check_unknown_format("r", GoodRenderer)


def test_empty_output_and_str_output_fail() -> None:
    open_doc = sample_documents()["open"]
    for output, reason in ((b"", "empty output"), ("text", "returned str, not bytes")):
        renderer = type("R", (GoodRenderer,), {"render": lambda self, d, f, o=output: o})
        fails(render_or_refusal, "r", renderer, open_doc, "txt", "open", match=reason)


def test_refusing_once_and_rendering_once_is_not_deterministic() -> None:
    fails(check_identical, "r", "txt", "open", b"x", PluginError("no"), match="one render refused")
    check_identical("r", "txt", "open", b"same", b"same")


def test_a_suffix_without_a_dot_or_an_unoffered_format_fails_the_protocol() -> None:
    no_dot = type("NoDot", (GoodRenderer,), {"formats": {"txt": "txt"}})
    fails(check_renderer_class, no_dot, match="a suffix starts with '.'")
    fails(check_renderer_class, GoodRenderer, ["pdf"], match="does not offer .formats: txt.")


def test_the_samples_add_up_like_statements_the_core_builds() -> None:
    """subtotal = non-tax lines, total = subtotal + tax; the credit note is negative."""
    for name, document in sample_documents().items():
        assert document.subtotal == sum(
            (line.amount for line in document.lines if line.kind != "tax"), Decimal(0)
        ), name
        assert document.total == document.subtotal + document.tax, name
        assert not list(floats_in(dataclasses.asdict(document), name))
    assert sample_documents()["open"].total == Decimal("300.39")
    assert sample_documents()["credit-note"].total == Decimal("-27.60")
    assert sample_documents()["foreign-currency"].exchange_rate == Decimal("0.9187")
