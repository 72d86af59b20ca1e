"""The softlayer provider on a bad day: pages that overlap, amounts spelt oddly.

The API pages by offset (``resultLimit=offset,limit``). An invoice created while the
pages are read shifts the later pages by one, so the next page repeats the record that
ended the previous one; a retried page can do the same. A record seen twice is one
record: billing it twice would overcharge the customer.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest
import responses

from connector.contracts import SourceDataError
from tests.providers.softlayer_api import (
    INVOICES,
    ITEMS,
    OCT_2026,
    anniversary_account,
    answering,
    fetch,
    item,
    provider,
    query,
    serve,
)


def october_total(tmp_path, change=None) -> Decimal:
    (batch,) = fetch(tmp_path, anniversary_account(), OCT_2026, change=change)
    return sum((c.billed_cost for c in batch.charges), Decimal(0))


def test_an_invoice_repeated_by_overlapping_pages_is_billed_once(tmp_path):
    def repeat_5006(data):
        data[INVOICES].append(copy.deepcopy(data[INVOICES][-1]))

    assert october_total(tmp_path, repeat_5006) == october_total(tmp_path) == Decimal("12.00")
    (batch,) = fetch(tmp_path, anniversary_account(), OCT_2026, change=repeat_5006)
    assert batch.source == "SoftLayer account 424242 invoices 5006"


def test_an_item_repeated_by_overlapping_pages_is_billed_once(tmp_path):
    """150 items of 0.01, 100 a page; an item added meanwhile shifts page 2 back by one,
    so it starts with item 99 again: still 1.50."""
    data = anniversary_account()
    del data[ITEMS]["5006"]
    many = [{"id": 20000 + n, "categoryCode": "disk", "recurringFee": "0.01"} for n in range(150)]

    def page(request):
        offset, limit = (int(part) for part in query(request)["resultLimit"].split(","))
        start = offset - 1 if offset else offset
        return (
            200,
            {"softlayer-total-items": str(len(many))},
            json.dumps(many[start : start + limit]),
        )

    with answering(ITEMS, {"callback": page}, data, 5006):
        (batch,) = provider(tmp_path).fetch(OCT_2026)
    assert [(c.sku, c.billed_cost, c.quantity) for c in batch.charges] == [
        ("disk", Decimal("1.50"), Decimal(150))
    ]


def test_one_id_for_two_different_invoices_is_refused_naming_it(tmp_path):
    def clash(data):
        other = copy.deepcopy(data[INVOICES][-1])
        other["typeCode"] = "ONE-TIME-CHARGE"
        data[INVOICES].append(other)

    with pytest.raises(SourceDataError) as caught:
        fetch(tmp_path, anniversary_account(), OCT_2026, change=clash)
    message = str(caught.value)
    assert message.startswith("SoftLayer getInvoices answer: invoice 5006 is listed twice")
    assert "typeCode" in message


@pytest.mark.parametrize(
    ("value", "shown"), [("1,234.50", "'1,234.50'"), ("", "''"), ("12.00 USD", "'12.00 USD'")]
)
def test_an_amount_written_for_people_names_invoice_item_field_and_value(tmp_path, value, shown):
    def spell(data):
        item(data, 5006, 9010)["recurringFee"] = value

    with pytest.raises(SourceDataError) as caught:
        fetch(tmp_path, anniversary_account(), OCT_2026, change=spell)
    assert str(caught.value) == (
        f"SoftLayer invoice 5006, item 9010: field 'recurringFee' is {shown}; expected a "
        f'decimal number such as "18.03"'
    )


def test_an_amount_in_e_notation_is_read_exactly(tmp_path):
    def spell(data):
        item(data, 5006, 9010)["recurringFee"] = "1.2E-5"

    assert october_total(tmp_path, spell) == Decimal("0.000012")


def test_one_item_id_with_other_fields_on_two_pages_is_refused(tmp_path):
    def clash(data):
        twin = copy.deepcopy(data[ITEMS]["5006"][0])
        twin["recurringFee"] = "13.00"
        data[ITEMS]["5006"].append(twin)

    with pytest.raises(SourceDataError) as caught:
        fetch(tmp_path, anniversary_account(), OCT_2026, change=clash)
    assert str(caught.value).startswith(
        "SoftLayer invoice 5006, item 9010: the item is listed twice with different fields;"
    )


def test_a_bad_item_in_a_later_period_yields_no_earlier_period(tmp_path):
    """September reads fine; October's item 9010 is malformed. Ingest stores each batch
    as it comes: a September yielded first would be stored while October is refused."""
    data = anniversary_account()
    item(data, 5006, 9010)["recurringFee"] = "12,00"
    yielded = []
    with (
        responses.RequestsMock(assert_all_requests_are_fired=False) as rsps,
        pytest.raises(SourceDataError, match="SoftLayer invoice 5006, item 9010"),
    ):
        serve(rsps, data)
        for batch in provider(tmp_path, since="2026-09-15").fetch():
            yielded.append(batch.period)
    assert yielded == []
