"""A stateful QuickBooks Online and Intuit OAuth, in process, on ``responses``.

It keeps customers, invoices, credit memos, payments and attachments, and the lists a
preflight reads (items, tax codes and rates, terms, currency preferences); computes each
invoice's total the way QuickBooks does (lines plus the tax its codes give, or the tax
amount the client fixed), with its Balance (RemainingCredit for a credit memo);
answers a repeated ``requestid`` from the first answer instead of acting again;
validates every Invoice and Customer body against Intuit's XSDs; checks the bearer
token; rotates refresh tokens (a used one gives ``invalid_grant``); and injects faults.
Its clock is :class:`tests.erp.fake_clock.FakeClock`.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import responses

from tests.erp.fake_clock import FakeClock
from tests.erp.quickbooks_lists import QuickBooksLists, dumps, quoted
from tests.erp.quickbooks_xml import validate

API = "https://sandbox-quickbooks.api.intuit.com/v3"
TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
REALM = "9130350000000001"
CENT = Decimal("0.01")
NOW = 1_750_000_000.0
UNAUTHORISED = {
    "Fault": {
        "Error": [{"Message": "message=AuthenticationFailed; errorCode=003200", "code": "3200"}],
        "type": "AUTHENTICATION",
    }
}


class Crash(BaseException):
    """The pushing process dying: nothing in the sink may catch it."""


@dataclass
class Fault:
    """What the next request to an endpoint gets instead of (or after) its answer.

    :param status: answer with this HTTP status (and ``headers``, ``body``) without acting.
    :param commit: act first, then fail with ``exception`` (the answer is lost).
    :param exception: raise this in the client (a timeout, a reset, a crash).
    """

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    commit: bool = False
    exception: BaseException | None = None


def validation_fault(message: str, detail: str, code: str = "6000") -> dict[str, Any]:
    return {
        "Fault": {
            "type": "ValidationFault",
            "Error": [{"Message": message, "Detail": detail, "code": code, "element": ""}],
        },
        "time": "2025-04-08T10:00:00.000-07:00",
    }


class FakeQuickBooks(QuickBooksLists):
    """One QuickBooks company and Intuit's token endpoint, registered on ``rsps``.

    :param us: a US company (TAX/NON lines, TxnTaxCodeRef) or not (tax code per line).
    :param tax_rates: tax code id -> rate, as the company's tax codes hold them.
    :param clock: stamps each API call, to check the rate limits were kept.
    """

    def __init__(
        self,
        rsps: responses.RequestsMock,
        *,
        us: bool = True,
        tax_rates: Mapping[str, Decimal] | None = None,
        clock: FakeClock | None = None,
        api: str = API,
        realm: str = REALM,
    ) -> None:
        self.us = us
        self.tax_rates = dict(tax_rates or {"5": Decimal("0.0825")})
        self.clock = clock
        self.base = f"{api}/company/{realm}"
        self.invoices: dict[str, dict[str, Any]] = {}
        self.credit_memos: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.attachments: list[dict[str, Any]] = []
        self.answered: dict[tuple[str, str], tuple[int, str]] = {}
        self.calls: list[tuple[str, float]] = []
        self.batch_sizes: list[int] = []
        self.request_bodies: list[str] = []
        self.faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.rejected_numbers: dict[str, str] = {}
        self.init_lists(self.tax_rates)
        self.queries: list[str] = []
        self.access_tokens = {"access-0"}
        self.refresh_token = "refresh-0"
        self.refreshes = 0
        self.token_delay = 0.0
        self._ids = 0
        self._lock = threading.Lock()
        for endpoint in ("query", "batch", "customer", "upload"):
            rsps.add_callback(
                responses.POST,
                re.compile(re.escape(f"{self.base}/{endpoint}") + r"(\?.*)?$"),
                callback=self._handler(endpoint),
            )
        rsps.add_callback(responses.POST, TOKEN_URL, callback=self._token)

    # -- helpers for tests ------------------------------------------------------------

    def inject(self, endpoint: str, *faults: Fault) -> None:
        self.faults[endpoint].extend(faults)

    def invoices_numbered(self, number: str) -> list[dict[str, Any]]:
        return [i for i in self.invoices.values() if i["DocNumber"] == number]

    def add_invoice(self, number: str, total: Decimal) -> str:
        return self.add_document(self.invoices, number, total, Balance=total)

    def writes(self) -> list[str]:
        """The endpoints called that are not queries (batch, customer, upload)."""
        return [name for name, _ in self.calls if name not in ("query", "token")]

    def add_customer(self, name: str) -> str:
        customer_id = self._next_id()
        self.customers[customer_id] = {"Id": customer_id, "DisplayName": name}
        return customer_id

    def count(self, endpoint: str) -> int:
        return sum(1 for name, _ in self.calls if name == endpoint)

    # -- dispatch ---------------------------------------------------------------------

    def _next_id(self) -> str:
        self._ids += 1
        return str(100 + self._ids)

    def _handler(self, endpoint: str) -> Callable[[requests.PreparedRequest], tuple]:
        def handle(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
            with self._lock:
                self.calls.append((endpoint, self.clock.now if self.clock else time.time()))
                bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
                if bearer not in self.access_tokens:
                    return 401, {}, dumps(UNAUTHORISED)
                fault = self.faults[endpoint].popleft() if self.faults[endpoint] else None
                if fault is not None and not fault.commit:
                    if fault.exception is not None:
                        raise fault.exception
                    return fault.status or 500, fault.headers, dumps(fault.body or {})
                body = request.body.decode() if isinstance(request.body, bytes) else request.body
                self.request_bodies.append(body or "")
                query = parse_qs(urlsplit(request.url).query)
                assert query.get("minorversion") == ["75"], request.url
                rid = (query.get("requestid") or [None])[0]
                if rid is not None and (endpoint, rid) in self.answered:
                    status, text = self.answered[(endpoint, rid)]
                else:
                    status, text = getattr(self, f"_{endpoint}")(body or "")
                    if rid is not None:
                        self.answered[(endpoint, rid)] = (status, text)
                if fault is not None:  # committed, but the answer never arrives
                    raise fault.exception or requests.exceptions.ReadTimeout("read timed out")
                return status, {"Content-Type": "application/json"}, text

        return handle

    # -- endpoints --------------------------------------------------------------------

    def _query(self, select: str) -> tuple[int, str]:
        self.queries.append(select)
        pattern = r"select \* from (Invoice|CreditMemo) where DocNumber in \((.*)\) MAXRESULTS"
        if (answer := self.list_query(select)) is not None:
            return answer
        if match := re.match(pattern, select):
            entity, wanted = match.group(1), set(quoted(match.group(2)))
            found = [i for i in self._kept(entity).values() if i["DocNumber"] in wanted]
            return 200, dumps({"QueryResponse": {entity: found} if found else {}})
        if match := re.match(r"select \* from Customer where DisplayName = (.*)$", select):
            name = quoted(match.group(1))[0]
            found = [c for c in self.customers.values() if c["DisplayName"] == name]
            return 200, dumps({"QueryResponse": {"Customer": found} if found else {}})
        if match := re.match(r"select \* from Attachable where (.*)$", select):
            invoice_id = quoted(match.group(1))[-1]
            found = [a for a in self.attachments if a["invoice_id"] == invoice_id]
            listed = [{"Id": a["Id"], "FileName": a["FileName"]} for a in found]
            return 200, dumps({"QueryResponse": {"Attachable": listed} if listed else {}})
        raise AssertionError(f"query the simulator does not know: {select}")

    def _customer(self, body: str) -> tuple[int, str]:
        data = json.loads(body, parse_float=Decimal)
        validate("Customer", data)
        customer_id = self._next_id()
        self.customers[customer_id] = {**data, "Id": customer_id}
        return 200, dumps({"Customer": self.customers[customer_id]})

    def _batch(self, body: str) -> tuple[int, str]:
        data = json.loads(body, parse_float=Decimal)
        items = data["BatchItemRequest"]
        assert set(data) == {"BatchItemRequest"} and len(items) <= 30
        self.batch_sizes.append(len(items))
        answers = []
        for item in items:
            [entity] = set(item) - {"bId", "operation"}
            assert item["operation"] == "create" and entity in ("Invoice", "CreditMemo")
            invoice = item[entity]
            validate(entity, invoice)
            answer: dict[str, Any] = {"bId": item["bId"]}
            problem = self._invoice_problem(invoice)
            if problem is not None:
                answer.update(validation_fault(*problem))
                answer.pop("time")
            else:
                invoice_id = self._next_id()
                total = self._total(invoice)
                left = "Balance" if entity == "Invoice" else "RemainingCredit"
                stored = {**invoice, "Id": invoice_id, "TotalAmt": total, left: total}
                assert stored["TotalAmt"] >= 0, "QuickBooks refuses a negative total"
                self._kept(entity)[invoice_id] = stored
                answer[entity] = stored
            answers.append(answer)
        return 200, dumps({"BatchItemResponse": answers, "time": "2025-04-08T10:00:00-07:00"})

    def _kept(self, entity: str) -> dict[str, dict[str, Any]]:
        return self.invoices if entity == "Invoice" else self.credit_memos

    def _invoice_problem(self, invoice: Mapping[str, Any]) -> tuple[str, str] | None:
        number = invoice["DocNumber"]
        if number in self.rejected_numbers:
            return "A business validation error has occurred", self.rejected_numbers[number]
        if invoice["CustomerRef"]["value"] not in self.customers:
            return "Invalid Reference Id", f"Customer {invoice['CustomerRef']['value']}"
        if not self.us and "GlobalTaxCalculation" not in invoice:
            return "Business Validation Error", "GlobalTaxCalculation is required"
        if self.us and "GlobalTaxCalculation" in invoice:
            return "Request has invalid or unsupported property", "GlobalTaxCalculation"
        for line in invoice["Line"]:
            detail = line["SalesItemLineDetail"]
            if detail["UnitPrice"] * detail["Qty"] != line["Amount"]:
                return "Amount is not equal to UnitPrice * Qty", str(line["LineNum"])
        return None

    def _total(self, invoice: Mapping[str, Any]) -> Decimal:
        lines = invoice["Line"]
        net = sum((line["Amount"] for line in lines), Decimal(0))
        tax_detail = invoice.get("TxnTaxDetail") or {}
        if self.us:
            if "TotalTax" in tax_detail:
                return net + tax_detail["TotalTax"]
            code = tax_detail.get("TxnTaxCodeRef", {}).get("value")
            taxed = sum((ln["Amount"] for ln in lines if _code(ln) == "TAX"), Decimal(0))
            rate = self.tax_rates.get(code, Decimal(0))
            return net + (taxed * rate).quantize(CENT, ROUND_HALF_UP)
        if tax_detail.get("TaxLine"):
            return net + sum((t["Amount"] for t in tax_detail["TaxLine"]), Decimal(0))
        by_code: dict[str, Decimal] = defaultdict(Decimal)
        for line in lines:
            by_code[_code(line)] += line["Amount"]
        tax = sum(
            (
                (base * self.tax_rates.get(code, Decimal(0))).quantize(CENT, ROUND_HALF_UP)
                for code, base in by_code.items()
            ),
            Decimal(0),
        )
        return net + tax

    def _upload(self, body: str) -> tuple[int, str]:
        metadata = re.search(
            r'name="file_metadata_01"\nContent-Type: application/json\n\n(.*?)\n\n--', body, re.S
        )
        content = re.search(r"Content-Transfer-Encoding: base64\n\n(.*?)\n\n--", body, re.S)
        assert metadata and content, body[:300]
        meta = json.loads(metadata.group(1))
        validate("Attachable", meta)
        ref = meta["AttachableRef"][0]["EntityRef"]
        assert ref["value"] in self._kept(ref["type"])
        attachment = {
            "Id": self._next_id(),
            "FileName": meta["FileName"],
            "invoice_id": ref["value"],
            "bytes": base64.b64decode(content.group(1)),
        }
        self.attachments.append(attachment)
        listed = {"Id": attachment["Id"], "FileName": attachment["FileName"]}
        return 200, dumps({"AttachableResponse": [{"Attachable": listed}]})

    def _token(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        form = {
            k: v[0]
            for k, v in parse_qs(
                request.body if isinstance(request.body, str) else request.body.decode()
            ).items()
        }
        with self._lock:
            self.calls.append(("token", self.clock.now if self.clock else time.time()))
            fault = self.faults["token"].popleft() if self.faults["token"] else None
            if fault is not None:
                return fault.status or 500, fault.headers, dumps(fault.body or {})
            if form.get("grant_type") == "refresh_token":
                if form.get("refresh_token") != self.refresh_token:
                    return 400, {}, dumps({"error": "invalid_grant"})
            elif form.get("grant_type") != "authorization_code" or form.get("code") != "good-code":
                return 400, {}, dumps({"error": "invalid_grant"})
            time.sleep(self.token_delay)  # widens the window two refreshers could race in
            self.refreshes += 1
            access = f"access-{self.refreshes}"
            self.access_tokens = {access}
            self.refresh_token = f"refresh-{self.refreshes}"
            answer = {
                "access_token": access,
                "refresh_token": self.refresh_token,
                "expires_in": 3600,
                "x_refresh_token_expires_in": 8726400,
                "token_type": "bearer",
            }
        return 200, {"Content-Type": "application/json"}, dumps(answer)


def _code(line: Mapping[str, Any]) -> str:
    return line["SalesItemLineDetail"]["TaxCodeRef"]["value"]


def token(access: str = "access-0", refresh: str = "refresh-0", expires_at: float = NOW + 3000):
    """A stored token as the core keeps it for the company."""
    return {
        "access_token": access,
        "refresh_token": refresh,
        "expires_at": expires_at,
        "refresh_token_expires_at": NOW + 8_000_000,
        "realm_id": REALM,
    }
