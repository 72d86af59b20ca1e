"""The simulated company's lists: what a preflight looks up, payments and credit memos.

:class:`QuickBooksLists` is a part of :class:`tests.erp.quickbooks_sim.FakeQuickBooks`:
items, tax codes and rates, terms (active or not), the currency preferences, customer
payments applied to invoices, and credit memos with their remaining credit, served to
the queries QuickBooks answers them to.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

Answer = tuple[int, str]
LISTED = re.compile(
    r"select \* from (\w+) where Active in \(true, false\) and Id in \((.*)\) MAXRESULTS 1000$"
)
ACTIVE = re.compile(r"select \* from (\w+) where Active = true MAXRESULTS 1000$")
PAYMENTS = re.compile(r"select \* from Payment where Id in \((.*)\) MAXRESULTS 1000$")


def dumps(data: Any) -> str:
    """JSON with Decimals as numbers, as QuickBooks writes them."""
    text = json.dumps(data, default=lambda d: f"__D{d}__")
    return re.sub(r'"__D(-?[0-9.]+)__"', r"\1", text)


def quoted(text: str) -> list[str]:
    """The quoted values of a query (``'a', 'b\\'c'``), unescaped."""
    return [v.replace("\\'", "'") for v in re.findall(r"'((?:[^'\\]|\\.)*)'", text)]


class QuickBooksLists:
    """The company's lists, payments and credit memos (a part of FakeQuickBooks)."""

    invoices: dict[str, dict[str, Any]]
    credit_memos: dict[str, dict[str, Any]]
    customers: dict[str, dict[str, Any]]
    _next_id: Callable[[], str]

    def init_lists(self, tax_rates: Mapping[str, Decimal]) -> None:
        """Start with item 1 and the tax codes of ``tax_rates``, all active; USD only."""
        self.payments: dict[str, dict[str, Any]] = {}
        #: Active flag by id of what a preflight looks up (customers are kept above).
        self.lists: dict[str, dict[str, bool]] = {
            "Item": {"1": True},
            "TaxCode": {code: True for code in tax_rates},
            "TaxRate": {},
            "Term": {},
        }
        self.home_currency = "USD"
        self.multicurrency = False
        #: Currencies added besides the home one: code -> active.
        self.currencies: dict[str, bool] = {}

    def add_document(
        self, records: dict[str, dict[str, Any]], number: str, total: Decimal, **more: Any
    ) -> str:
        """A document numbered ``number`` of ``total`` (and ``more`` fields) in
        ``records`` (invoices or credit memos); its new id."""
        record_id = self._next_id()
        records[record_id] = {"Id": record_id, "DocNumber": number, "TotalAmt": total, **more}
        return record_id

    def add_credit_memo(self, number: str, total: Decimal, remaining: Decimal) -> str:
        """A credit memo of ``total`` with ``remaining`` credit not yet applied."""
        return self.add_document(self.credit_memos, number, total, RemainingCredit=remaining)

    def pay(self, invoice_id: str, amount: Decimal, on: str) -> str:
        """A customer payment of ``amount`` on date ``on`` (ISO) applied to the invoice."""
        payment_id = self._next_id()
        self.payments[payment_id] = {"Id": payment_id, "TxnDate": on, "TotalAmt": amount}
        invoice = self.invoices[invoice_id]
        invoice["Balance"] -= amount
        invoice.setdefault("LinkedTxn", []).append({"TxnId": payment_id, "TxnType": "Payment"})
        return payment_id

    def void(self, invoice_id: str) -> None:
        """Void the invoice as QuickBooks does: its number stays, its amounts become 0."""
        self.invoices[invoice_id].update(TotalAmt=Decimal(0), Balance=Decimal(0))

    def list_query(self, select: str) -> Answer | None:
        """The answer to a query on the lists, or None for one about something else."""
        if match := LISTED.match(select):
            entity, wanted = match.group(1), set(quoted(match.group(2)))
            if entity == "Customer":
                known = {i: c.get("Active", True) for i, c in self.customers.items()}
            else:
                known = self.lists[entity]
            found = [{"Id": i, "Active": known[i]} for i in sorted(wanted) if i in known]
            return 200, dumps({"QueryResponse": {entity: found} if found else {}})
        if match := ACTIVE.match(select):
            entity = match.group(1)
            found = [{"Id": i, "Active": True} for i, a in sorted(self.lists[entity].items()) if a]
            return 200, dumps({"QueryResponse": {entity: found} if found else {}})
        if match := PAYMENTS.match(select):
            wanted = set(quoted(match.group(1)))
            payments = [p for i, p in self.payments.items() if i in wanted]
            return 200, dumps({"QueryResponse": {"Payment": payments} if payments else {}})
        if select == "select * from Preferences":
            prefs = {
                "CurrencyPrefs": {
                    "MultiCurrencyEnabled": self.multicurrency,
                    "HomeCurrency": {"value": self.home_currency},
                }
            }
            return 200, dumps({"QueryResponse": {"Preferences": [prefs]}})
        if select == "select * from CompanyCurrency MAXRESULTS 1000":
            assert self.multicurrency, "CompanyCurrency is only there with multicurrency on"
            codes = [{"Code": c, "Active": a} for c, a in sorted(self.currencies.items())]
            return 200, dumps({"QueryResponse": {"CompanyCurrency": codes} if codes else {}})
        return None
