"""What every rendering of the factory statement (``tests.factories.make_statement``)
shows, whatever its format."""

from __future__ import annotations

PARTIES_AND_TERMS = (
    "NW-2025-0042",
    "Contoso Analytics & Co.",
    "88 Market Street",
    "Customer ID: CUST-1001",
    "Northwind Cloud Services LLC",
    "billing@northwind.example",
    "Tax ID: US 74-1234567",
    "2025-03-01 to 2025-03-31",
    "Payment by ACH to account 000123456789.",
)
# The totals block adds up on its own: charges 498.37, the credit, the tax, the total.
TOTALS = (
    "Subtotal 498.37",
    "Credit applied (promotional credit) -50.00",
    "Sales tax 8.25% 21.81",
    "Total (USD) 470.18",
)
