"""The simulated Xero's lists: what a preflight reads, and credit notes.

:class:`XeroLists` is a part of :class:`tests.erp.xero_simulator.FakeXero`: the
accounts, tax rates, items, tracking categories and currencies of the organisation, each
served read-only as Xero's ``GET`` endpoints answer, and its sales credit notes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

Answer = tuple[int, dict, str]


def ms(day: dt.date) -> str:
    """``day`` as Xero writes a date: ``/Date(ms+0000)/`` at midnight UTC."""
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return f"/Date({int(midnight.timestamp() * 1000)}+0000)/"


def number(value: Decimal) -> float:
    # Xero sends numbers; money at 2 and unit prices at 4 places print exactly as floats.
    return float(value)


def where_values(call: Any, field: str) -> set[str]:
    """The values a ``where`` filter compares ``field`` with (``Field=="value"``)."""
    return set(re.findall(field + r'=="([^"]*)"', call.query.get("where", [""])[0]))


class XeroLists:
    """The organisation's settings lists and credit notes (a part of FakeXero)."""

    def init_lists(self, tax_rates: Mapping[str, Decimal]) -> None:
        """Start with the base currency USD, the tax types of ``tax_rates`` and no items."""
        #: Per account code, fields overriding an active revenue account's (Status, Class).
        self.account_info: dict[str, dict[str, Any]] = {}
        self.tax_types = set(tax_rates)
        #: Per tax type, fields overriding an active revenue tax rate's.
        self.tax_info: dict[str, dict[str, Any]] = {}
        self.items: set[str] = set()
        #: Active tracking categories and their active options.
        self.tracking: dict[str, list[str]] = {}
        self.base_currency = "USD"
        self.currencies = {"USD"}
        self.credit_notes: dict[str, dict[str, Any]] = {}

    new_id: Callable[[], str]  # FakeXero's

    def add_credit_note(
        self,
        number: str,
        total: Decimal,
        *,
        remaining: Decimal | None = None,
        status: str = "AUTHORISED",
        paid_on: dt.date | None = None,
    ) -> str:
        """A sales credit note as Xero holds it (its total positive)."""
        note_id = self.new_id()
        self.credit_notes[note_id] = {
            "CreditNoteID": note_id,
            "CreditNoteNumber": number,
            "Type": "ACCRECCREDIT",
            "Status": status,
            "Total": total,
            "RemainingCredit": total if remaining is None else remaining,
            "_paid_on": paid_on,
        }
        return note_id

    def reads(self) -> dict[str, Callable[[Any], Answer]]:
        """The read-only routes, by path."""
        return {
            "/Accounts": self._get_accounts,
            "/TaxRates": self._get_tax_rates,
            "/Items": self._get_items,
            "/TrackingCategories": self._get_tracking,
            "/Currencies": self._get_currencies,
            "/Organisation": self._get_organisation,
            "/CreditNotes": self._get_credit_notes,
        }

    def _get_accounts(self, call: Any) -> Answer:
        accounts = [
            {
                "AccountID": f"acc-{code}",
                "Code": code,
                "Name": f"Sales {code}",
                "Type": "REVENUE",
                "Class": "REVENUE",
                "Status": "ACTIVE",
                **self.account_info.get(code, {}),
            }
            for code in sorted(self.accounts)
        ]
        return 200, {}, json.dumps({"Accounts": accounts})

    def _get_tax_rates(self, call: Any) -> Answer:
        rates = [
            {
                "Name": f"Tax {tax_type}",
                "TaxType": tax_type,
                "Status": "ACTIVE",
                "CanApplyToRevenue": True,
                **self.tax_info.get(tax_type, {}),
            }
            for tax_type in sorted(self.tax_types)
        ]
        return 200, {}, json.dumps({"TaxRates": rates})

    def _get_items(self, call: Any) -> Answer:
        wanted = where_values(call, "Code")
        found = [
            {"ItemID": f"item-{code}", "Code": code, "Name": code}
            for code in sorted(self.items)
            if not wanted or code in wanted
        ]
        return 200, {}, json.dumps({"Items": found})

    def _get_tracking(self, call: Any) -> Answer:
        categories = [
            {
                "TrackingCategoryID": f"tc-{name}",
                "Name": name,
                "Status": "ACTIVE",
                "Options": [{"Name": option, "Status": "ACTIVE"} for option in options],
            }
            for name, options in self.tracking.items()
        ]
        return 200, {}, json.dumps({"TrackingCategories": categories})

    def _get_currencies(self, call: Any) -> Answer:
        listed = [{"Code": code, "Description": code} for code in sorted(self.currencies)]
        return 200, {}, json.dumps({"Currencies": listed})

    def _get_organisation(self, call: Any) -> Answer:
        organisation = {"OrganisationID": "org-1", "BaseCurrency": self.base_currency}
        return 200, {}, json.dumps({"Organisations": [organisation]})

    def _get_credit_notes(self, call: Any) -> Answer:
        wanted = where_values(call, "CreditNoteNumber")
        found = []
        for note in self.credit_notes.values():
            if wanted and note["CreditNoteNumber"] not in wanted:
                continue
            shown = {k: v for k, v in note.items() if not k.startswith("_")}
            shown["Total"], shown["RemainingCredit"] = (
                number(note["Total"]),
                number(note["RemainingCredit"]),
            )
            if note["_paid_on"]:
                shown["FullyPaidOnDate"] = ms(note["_paid_on"])
            found.append(shown)
        return 200, {}, json.dumps({"CreditNotes": found})
