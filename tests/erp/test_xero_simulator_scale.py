"""The simulated Xero answers as fast in a large organisation as in a small one, as Xero
does: a benchmark's push must not slow down because its simulator does."""

from __future__ import annotations

import json
import statistics
import time
from decimal import Decimal

import requests

from tests.erp.push_sim import NoMock, XeroServer
from tests.erp.xero_records import Records
from tests.erp.xero_simulator import TENANT_ID, Call, FakeXero

AUTH = {"Authorization": "Bearer access-0", "xero-tenant-id": TENANT_ID}


class NoWalk(Records):
    """Records whose look-ups must not go through every record."""

    def values(self):  # type: ignore[override]
        raise AssertionError("walked every record")


def test_records_are_found_by_an_indexed_field_after_being_set_replaced_and_removed():
    held = Records("InvoiceNumber")
    held["a"] = {"InvoiceNumber": "N-1"}
    held["b"] = {"InvoiceNumber": "N-2"}
    held["c"] = {"InvoiceNumber": "N-1"}
    assert held.having("InvoiceNumber", ["N-1"]) == [held["a"], held["c"]]

    held["a"] = {"InvoiceNumber": "N-3"}  # replaced: keeps its place, under its new number
    del held["c"]
    held.update(d={"InvoiceNumber": "N-1"})
    assert held.having("InvoiceNumber", ["N-1"]) == [{"InvoiceNumber": "N-1"}]
    assert held.having("InvoiceNumber", ["N-3", "N-2"]) == [held["a"], held["b"]]
    assert held.pop("b") == {"InvoiceNumber": "N-2"}
    assert held.having("InvoiceNumber", ["N-2"]) == []
    assert held == {"a": {"InvoiceNumber": "N-3"}, "d": {"InvoiceNumber": "N-1"}}
    held.clear()
    assert held.having("InvoiceNumber", ["N-1", "N-3"]) == []


def _call(method: str, path: str, query: dict | None = None, body: dict | None = None) -> Call:
    return Call(method, path, query or {}, AUTH, json.dumps(body) if body else None)


def test_invoices_and_contacts_are_looked_up_without_walking_every_one():
    xero = FakeXero(NoMock())  # type: ignore[arg-type]
    for name, fields in (("invoices", ("InvoiceNumber", "InvoiceID")),
                         ("contacts", ("Name", "ContactNumber"))):  # fmt: skip
        walked = NoWalk(*fields)
        walked.update(getattr(xero, name))
        setattr(xero, name, walked)
    first = xero.add_invoice("N-1", Decimal(10))
    xero.add_invoice("N-2", Decimal(20))
    xero.contacts["c-1"] = {"ContactID": "c-1", "ContactNumber": "C1", "Name": "One Ltd"}

    status, _, text = xero._serve(_call("GET", "/Invoices", {"InvoiceNumbers": ["N-1,N-9"]}))
    assert status == 200 and [i["InvoiceID"] for i in json.loads(text)["Invoices"]] == [first]
    status, _, text = xero._serve(_call("GET", "/Invoices", {"IDs": [first]}))
    assert [i["InvoiceNumber"] for i in json.loads(text)["Invoices"]] == ["N-1"]
    assert [i["InvoiceID"] for i in xero.by_number("N-2")] != [first]
    where = {"where": ['ContactNumber=="C1" OR ContactNumber=="C2"']}
    _, _, text = xero._serve(_call("GET", "/Contacts", where))
    assert [c["ContactID"] for c in json.loads(text)["Contacts"]] == ["c-1"]
    body = {"Contacts": [{"Name": "One Ltd", "ContactNumber": "C2"}, {"Name": "Two Ltd"}]}
    _, _, text = xero._serve(_call("PUT", "/Contacts", body=body))
    taken, created = json.loads(text)["Contacts"]
    assert taken["HasValidationErrors"] and "ContactID" not in taken
    assert created["ContactID"] in xero.contacts


def test_the_served_simulator_answers_a_small_call_without_a_delayed_ack_wait():
    """Headers and body are written apart; with Nagle's algorithm on the server's socket
    the body waited for the client's delayed ACK, 40 ms or more a call on Linux."""
    served = XeroServer()
    try:
        url = f"{served.base_url}/api.xro/2.0/Organisation"
        with requests.Session() as session:
            session.get(url, headers=AUTH).raise_for_status()  # connected, quick ACKs used up
            took = []
            for _ in range(15):
                started = time.perf_counter()
                session.get(url, headers=AUTH).raise_for_status()
                took.append(time.perf_counter() - started)
    finally:
        served.close()
    assert statistics.median(took) < 0.02, took
