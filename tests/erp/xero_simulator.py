"""A stateful Xero for the sink's tests, served through ``responses`` (no network).

It keeps contacts, invoices, credit notes and attachments, and the settings a preflight
reads (accounts, tax rates, items, tracking categories, currencies); computes each
invoice's total the way Xero does (Quantity x UnitAmount rounded half-up per line, plus
the line's TaxAmount, or the tax type's rate when none is given); records payments;
answers a repeated ``Idempotency-Key`` with the first response; checks the bearer token
and rotates refresh tokens like Xero's identity service; and injects faults on request:
any status with headers (429 with Retry-After, 500, 503), and timeouts or dropped
connections before or after it committed the request.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests
import responses

from tests.erp.xero_lists import XeroLists, ms, number
from tests.erp.xero_records import Records

API = "https://api.xero.com"
IDENTITY = "https://identity.xero.com"
TENANT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_ID = "client-abc"
CLIENT_SECRET = "secret-xyz"
CENT = Decimal("0.01")
TAX_RATES = {"OUTPUT": Decimal("0.15"), "NONE": Decimal(0), "EXEMPTOUTPUT": Decimal(0)}
_MS_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


@dataclass
class Fault:
    """What to do instead of (or after) serving a matching request."""

    method: str
    path: str  # a prefix of the path after /api.xro/2.0, e.g. "/Invoices"
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: str = '{"Message": "injected"}'
    after_commit: bool = False
    exception: type[Exception] | None = None
    times: int = 1


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes | str | None

    def json(self) -> Any:
        text = self.body.decode() if isinstance(self.body, bytes) else self.body
        return json.loads(text or "null", parse_float=Decimal)

    @property
    def text(self) -> str:
        return self.body.decode() if isinstance(self.body, bytes) else (self.body or "")


def ms_date(text: str) -> dt.date:
    """The day a ``/Date(ms)/`` value names, read in UTC as Xero does."""
    match = _MS_DATE.fullmatch(text)
    assert match, f"not an MS JSON date: {text!r}"
    return dt.datetime.fromtimestamp(int(match.group(1)) / 1000, dt.UTC).date()


class FakeXero(XeroLists):
    """One Xero organisation (plus the identity service) behind ``responses``."""

    def __init__(self, mock: responses.RequestsMock, *, accounts: tuple[str, ...] = ("200",)):
        self.accounts = set(accounts)
        self.init_lists(TAX_RATES)
        # Indexed as Xero's look-ups are: the push finds invoices by number, contacts by
        # number and name, and takes as long in a large organisation as in a small one.
        self.contacts = Records("Name", "ContactNumber")
        self.invoices = Records("InvoiceNumber", "InvoiceID")
        self.attachments: dict[str, dict[str, bytes]] = {}
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.total_skew: dict[str, Decimal] = {}
        self.idempotent: dict[str, tuple[int, dict[str, str], str]] = {}
        self.access_tokens = {"access-0"}
        self.refresh_token = "refresh-0"
        self.refreshes = 0
        self.auth_codes = {"good-code"}
        #: When set (seconds), the per-minute limit is enforced with 429 like Xero does.
        self.clock: Callable[[], float] | None = None
        self.per_minute = 60
        self.call_times: list[float] = []
        self._last_minute: deque[float] = deque()  # the call times of the last minute
        self.throttled = 0
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        pattern = re.compile(re.escape(API) + r"/api\.xro/2\.0/.*")
        for method in ("GET", "PUT", "POST"):
            mock.add_callback(method, pattern, callback=self._api)
        mock.add_callback("POST", f"{IDENTITY}/connect/token", callback=self._token)

    # -- inspection -------------------------------------------------------------------

    def api_calls(self, method: str | None = None, path: str = "") -> list[Call]:
        return [
            c
            for c in self.calls
            if c.path.startswith(path) and (method is None or c.method == method)
        ]

    def by_number(self, number: str) -> list[dict[str, Any]]:
        return self.invoices.having("InvoiceNumber", [number])

    def fail(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    def new_id(self) -> str:
        return f"00000000-0000-0000-0000-{next(self._ids):012d}"

    def add_invoice(self, number: str, total: Decimal, status: str = "AUTHORISED") -> str:
        """An ACCREC invoice as a push would have left it, nothing paid yet."""
        invoice_id = self.new_id()
        self.invoices[invoice_id] = {
            "InvoiceID": invoice_id,
            "InvoiceNumber": number,
            "Type": "ACCREC",
            "Status": status,
            "LineItems": [],
            "SubTotal": total,
            "TotalTax": Decimal(0),
            "Total": total,
            "AmountDue": total,
            "AmountPaid": Decimal(0),
        }
        return invoice_id

    def pay(self, invoice_id: str, amount: Decimal, on: dt.date) -> None:
        """Record a payment of ``amount`` on ``on``; the invoice is PAID when nothing is due."""
        invoice = self.invoices[invoice_id]
        invoice["AmountPaid"] += amount
        invoice["AmountDue"] -= amount
        if invoice["AmountDue"] == 0:
            invoice["Status"] = "PAID"
            invoice["_paid_on"] = on

    # -- identity -----------------------------------------------------------------------

    def _token(self, request: requests.PreparedRequest) -> tuple[int, dict, str]:
        form = {k: v[0] for k, v in parse_qs(request.body or "").items()}
        with self._lock:
            if form.get("grant_type") == "refresh_token":
                if form.get("refresh_token") != self.refresh_token:
                    return 400, {}, json.dumps({"error": "invalid_grant"})
                if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
                    return 400, {}, json.dumps({"error": "invalid_client"})
            elif form.get("grant_type") == "authorization_code":
                expected = (
                    "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
                )
                if request.headers.get("Authorization") != expected:
                    return 401, {}, json.dumps({"error": "invalid_client"})
                if form.get("code") not in self.auth_codes:
                    return 400, {}, json.dumps({"error": "invalid_grant"})
                self.auth_codes.discard(form["code"])
            else:
                return 400, {}, json.dumps({"error": "unsupported_grant_type"})
            self.refreshes += form["grant_type"] == "refresh_token"
            number = next(self._ids)
            access, self.refresh_token = f"access-{number}", f"refresh-{number}"
            self.access_tokens.add(access)
            body = {
                "access_token": access,
                "refresh_token": self.refresh_token,
                "expires_in": 1800,
                "token_type": "Bearer",
                "scope": "offline_access accounting.transactions accounting.contacts",
            }
            return 200, {}, json.dumps(body)

    # -- the API ------------------------------------------------------------------------

    def _api(self, request: requests.PreparedRequest) -> tuple[int, dict, str]:
        parts = urlsplit(request.url)
        path = unquote(parts.path.split("/api.xro/2.0", 1)[1])
        call = Call(
            request.method, path, parse_qs(parts.query), dict(request.headers), request.body
        )
        with self._lock:
            self.calls.append(call)
            if self.clock is not None:
                now = self.clock()
                recent = self._last_minute
                while recent and recent[0] <= now - 60:
                    recent.popleft()
                if len(recent) >= self.per_minute:
                    self.throttled += 1
                    wait = str(int(recent[-self.per_minute] + 60 - now) + 1)
                    return 429, {"Retry-After": wait, "X-Rate-Limit-Problem": "minute"}, "{}"
                self.call_times.append(now)
                recent.append(now)
            fault = self._take_fault(call)
        if fault is not None and not fault.after_commit:
            return self._fault(fault)
        if request.headers.get("Authorization", "")[7:] not in self.access_tokens:
            return 401, {}, json.dumps({"Title": "Unauthorized", "Status": 401})
        if request.headers.get("xero-tenant-id") != TENANT_ID:
            return 403, {}, json.dumps({"Title": "Forbidden", "Status": 403})
        key = request.headers.get("Idempotency-Key")
        with self._lock:
            if key and key in self.idempotent:
                answer = self.idempotent[key]
            else:
                answer = self._serve(call)
                if key:
                    self.idempotent[key] = answer
        if fault is not None:
            return self._fault(fault)
        return answer

    def _take_fault(self, call: Call) -> Fault | None:
        for fault in self.faults:
            if fault.method == call.method and call.path.startswith(fault.path):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    @staticmethod
    def _fault(fault: Fault) -> tuple[int, dict, str]:
        if fault.exception is not None:
            raise fault.exception("injected fault")
        return fault.status, fault.headers, fault.body

    def _serve(self, call: Call) -> tuple[int, dict[str, str], str]:
        route: Callable[[Call], tuple[int, dict[str, str], str]] | None = None
        reads = self.reads()
        if call.path == "/CreditNotes" and call.method == "PUT":
            route = self._put_credit_notes
        elif re.fullmatch(r"/CreditNotes/[^/]+/Allocations", call.path):
            route = self._allocate_credit_note if call.method == "PUT" else None
        elif re.fullmatch(r"/CreditNotes/[^/]+/Attachments/[^/]+", call.path):
            route = self._attach_credit_note if call.method in ("POST", "PUT") else None
        elif call.path in reads:
            route = reads[call.path] if call.method == "GET" else None
        elif call.path == "/Invoices":
            route = {"GET": self._get_invoices, "PUT": self._put_invoices}.get(call.method)
        elif call.path == "/Contacts":
            route = {"GET": self._get_contacts, "PUT": self._put_contacts}.get(call.method)
        elif re.fullmatch(r"/Invoices/[^/]+/Attachments/[^/]+", call.path):
            route = self._attach if call.method in ("POST", "PUT") else None
        if route is None:
            return 404, {}, json.dumps({"Message": f"no route {call.method} {call.path}"})
        return route(call)

    def _get_invoices(self, call: Call) -> tuple[int, dict, str]:
        found: list[dict[str, Any]] | None = None
        for name, key in (("InvoiceNumbers", "InvoiceNumber"), ("IDs", "InvoiceID")):
            if name in call.query:
                wanted = set(call.query[name][0].split(","))
                found = (
                    self.invoices.having(key, wanted)
                    if found is None
                    else [inv for inv in found if inv[key] in wanted]
                )
        if found is None:
            found = list(self.invoices.values())
        return 200, {}, json.dumps({"Invoices": [self._public(inv) for inv in found]})

    def _public(self, invoice: dict[str, Any]) -> dict[str, Any]:
        shown = {k: v for k, v in invoice.items() if not k.startswith("_")}
        for name in ("SubTotal", "TotalTax", "Total", "AmountDue", "AmountPaid"):
            shown[name] = number(invoice[name])
        if invoice.get("_paid_on"):
            shown["FullyPaidOnDate"] = ms(invoice["_paid_on"])
        shown["HasAttachments"] = bool(self.attachments.get(invoice["InvoiceID"]))
        shown["LineItems"] = [
            {k: number(v) if isinstance(v, Decimal) else v for k, v in line.items()}
            for line in invoice["LineItems"]
        ]
        return shown

    def _put_invoices(self, call: Call) -> tuple[int, dict, str]:
        summarize = call.query.get("summarizeErrors", ["true"])[0].lower() != "false"
        body = call.json()
        results, failed = [], False
        for sent in body["Invoices"]:
            errors = self._invoice_errors(sent)
            if errors:
                failed = True
                results.append(
                    {
                        "InvoiceNumber": sent.get("InvoiceNumber"),
                        "InvoiceID": "00000000-0000-0000-0000-000000000000",
                        "HasErrors": True,
                        "ValidationErrors": [{"Message": m} for m in errors],
                    }
                )
            else:
                results.append(sent)
        if failed and summarize:
            elements = [r for r in results if r.get("HasErrors")]
            return (
                400,
                {},
                json.dumps(
                    {
                        "ErrorNumber": 10,
                        "Type": "ValidationException",
                        "Message": "A validation exception occurred",
                        "Elements": elements,
                    }
                ),
            )
        out = []
        for result in results:
            if result.get("HasErrors"):
                out.append(result)
                continue
            invoice = self._store(result)
            out.append(self._public(invoice))
        return 200, {}, json.dumps({"Invoices": out})

    def _invoice_errors(self, sent: dict[str, Any]) -> list[str]:
        errors = []
        contact_id = (sent.get("Contact") or {}).get("ContactID")
        if contact_id not in self.contacts:
            errors.append(f"Contact {contact_id} could not be found.")
        for line in sent.get("LineItems", []):
            if line.get("AccountCode") not in self.accounts:
                errors.append(
                    f"Account code '{line.get('AccountCode')}' is not a valid code for this "
                    "document."
                )
        return errors

    def _store(self, sent: dict[str, Any]) -> dict[str, Any]:
        lines, subtotal, tax = [], Decimal(0), Decimal(0)
        for line in sent["LineItems"]:
            amount = (Decimal(line["Quantity"]) * Decimal(line["UnitAmount"])).quantize(
                CENT, ROUND_HALF_UP
            )
            given = line.get("TaxAmount")
            line_tax = (
                Decimal(given)
                if given is not None
                else (amount * TAX_RATES.get(line.get("TaxType"), Decimal(0))).quantize(
                    CENT, ROUND_HALF_UP
                )
            )
            lines.append({**line, "LineAmount": amount, "TaxAmount": line_tax})
            subtotal, tax = subtotal + amount, tax + line_tax
        number = sent["InvoiceNumber"]
        invoice = {
            **{k: v for k, v in sent.items() if k != "LineItems"},
            "InvoiceID": self.new_id(),
            "LineItems": lines,
            "SubTotal": subtotal,
            "TotalTax": tax,
            "Total": subtotal + tax + self.total_skew.get(number, Decimal(0)),
            "AmountPaid": Decimal(0),
            "_date": ms_date(sent["Date"]),
            "_due": ms_date(sent["DueDate"]),
        }
        invoice["AmountDue"] = invoice["Total"]
        self.invoices[invoice["InvoiceID"]] = invoice
        return invoice

    def _get_contacts(self, call: Call) -> tuple[int, dict, str]:
        where = call.query.get("where", [""])[0]
        numbers = set(re.findall(r'ContactNumber=="([^"]*)"', where))
        found = (
            self.contacts.having("ContactNumber", numbers) if numbers else [*self.contacts.values()]
        )
        return 200, {}, json.dumps({"Contacts": found})

    def _put_contacts(self, call: Call) -> tuple[int, dict, str]:
        out = []
        for sent in call.json()["Contacts"]:
            if self.contacts.having("Name", [sent.get("Name")]):
                out.append(
                    {
                        **sent,
                        "HasValidationErrors": True,
                        "ValidationErrors": [
                            {"Message": "The contact name is already assigned to another contact."}
                        ],
                    }
                )
                continue
            contact = {**sent, "ContactID": self.new_id()}
            self.contacts[contact["ContactID"]] = contact
            out.append(contact)
        return 200, {}, json.dumps({"Contacts": out})

    def _attach(self, call: Call) -> tuple[int, dict, str]:
        _, _, invoice_id, _, name = call.path.split("/")
        if invoice_id not in self.invoices:
            return 404, {}, json.dumps({"Message": "not found"})
        data = call.body if isinstance(call.body, bytes) else (call.body or "").encode()
        self.attachments.setdefault(invoice_id, {})[name] = data
        return 200, {}, json.dumps({"Attachments": [{"FileName": name}]})

    def _put_credit_notes(self, call: Call) -> tuple[int, dict, str]:
        """Create sales credit notes (summarizeErrors=false): totals as for an invoice."""
        out = []
        for sent in call.json()["CreditNotes"]:
            errors = self._invoice_errors(sent)
            if errors:
                out.append(
                    {
                        "CreditNoteNumber": sent.get("CreditNoteNumber"),
                        "CreditNoteID": "00000000-0000-0000-0000-000000000000",
                        "HasErrors": True,
                        "ValidationErrors": [{"Message": m} for m in errors],
                    }
                )
                continue
            # Priced as an invoice (LineAmount, TaxAmount), kept as credit notes are.
            held = self._store(
                {"DueDate": sent["Date"], **sent, "InvoiceNumber": sent["CreditNoteNumber"]}
            )
            del self.invoices[held["InvoiceID"]]
            note_id = self.add_credit_note(sent["CreditNoteNumber"], held["Total"])
            note = self.credit_notes[note_id]
            note.update(
                {k: v for k, v in sent.items() if k not in ("LineItems", "Type", "Status")},
                CreditNoteID=note_id,
                Status=sent.get("Status", "AUTHORISED"),
                SubTotal=number(held["SubTotal"]),
                TotalTax=number(held["TotalTax"]),
                LineItems=[
                    {k: number(v) if isinstance(v, Decimal) else v for k, v in line.items()}
                    for line in held["LineItems"]
                ],
                HasAttachments=False,
                _date=held["_date"],
            )
            out.append({**{k: v for k, v in note.items() if not k.startswith("_")},
                        "Total": number(note["Total"]),
                        "RemainingCredit": number(note["RemainingCredit"])})  # fmt: skip
        return 200, {}, json.dumps({"CreditNotes": out})

    def _allocate_credit_note(self, call: Call) -> tuple[int, dict, str]:
        """Allocate a credit note to invoices as Xero does: only an AUTHORISED credit note
        to an AUTHORISED invoice of the same currency, never more than the invoice's
        AmountDue or the note's RemainingCredit; either at zero becomes PAID."""
        note_id = call.path.split("/")[2]
        note = self.credit_notes.get(note_id)
        if note is None:
            return (
                404,
                {},
                json.dumps({"Message": "The resource you're looking for cannot be found"}),
            )
        sent_all = call.json()["Allocations"]
        errors = []
        for sent in sent_all:
            invoice = self.invoices.get((sent.get("Invoice") or {}).get("InvoiceID"))
            amount = Decimal(sent["Amount"])
            if note["Status"] != "AUTHORISED":
                errors.append("Only AUTHORISED credit notes can be allocated")
            elif invoice is None:
                errors.append("Invoice could not be found")
            elif invoice["Status"] != "AUTHORISED":
                errors.append(
                    f"Invoice is {invoice['Status']}; only AUTHORISED invoices accept allocations"
                )
            elif note.get("CurrencyCode", "USD") != invoice.get("CurrencyCode", "USD"):
                errors.append("The invoice and credit note currencies differ")
            elif amount > invoice["AmountDue"]:
                errors.append("The amount allocated is more than the invoice's amount due")
            elif amount > note["RemainingCredit"]:
                errors.append(
                    "The amount allocated is more than the credit note's remaining credit"
                )
        if errors:
            body = {
                "ErrorNumber": 10,
                "Type": "ValidationException",
                "Message": "A validation exception occurred",
                "Elements": [{"ValidationErrors": [{"Message": m} for m in errors]}],
            }
            return 400, {}, json.dumps(body)
        out = []
        for sent in sent_all:
            invoice = self.invoices[sent["Invoice"]["InvoiceID"]]
            amount = Decimal(sent["Amount"])
            invoice["AmountDue"] -= amount
            if invoice["AmountDue"] == 0:
                invoice["Status"] = "PAID"
            note["RemainingCredit"] -= amount
            if note["RemainingCredit"] == 0:
                note["Status"] = "PAID"
            allocation = {
                "AllocationID": self.new_id(),
                "Amount": number(amount),
                "Date": sent["Date"],
                "Invoice": {
                    "InvoiceID": invoice["InvoiceID"],
                    "InvoiceNumber": invoice["InvoiceNumber"],
                },
            }
            note.setdefault("_allocations", []).append(allocation)
            out.append(allocation)
        return 200, {}, json.dumps({"Allocations": out})

    def _attach_credit_note(self, call: Call) -> tuple[int, dict, str]:
        _, _, note_id, _, name = call.path.split("/")
        if note_id not in self.credit_notes:
            return 404, {}, json.dumps({"Message": "not found"})
        data = call.body if isinstance(call.body, bytes) else (call.body or "").encode()
        self.attachments.setdefault(note_id, {})[name] = data
        self.credit_notes[note_id]["HasAttachments"] = True
        return 200, {}, json.dumps({"Attachments": [{"FileName": name}]})
