"""Partner Center reconciliation files for the azure-csp provider's tests."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from tests.providers.export_files import copy as copy
from tests.providers.export_files import csv_writer, gzip_by_name, read_csv, row_maker, write_bytes

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "azure_csp"
BILLED_CSV = FIXTURES / "G000000123_billed_recon.csv"
BILLED_JSONL = FIXTURES / "G000000123_billed_recon.jsonl"

# The new commerce invoice reconciliation file's columns, in the documented order.
CSP_HEADER = [
    "PartnerId",
    "CustomerId",
    "CustomerName",
    "CustomerDomainName",
    "CustomerCountry",
    "InvoiceNumber",
    "MpnId",
    "ResellerMpnId",
    "OrderId",
    "OrderDate",
    "ProductId",
    "SkuId",
    "AvailabilityId",
    "SkuName",
    "ProductName",
    "ChargeType",
    "UnitPrice",
    "Quantity",
    "Subtotal",
    "TaxTotal",
    "Total",
    "Currency",
    "PriceAdjustmentDescription",
    "PublisherName",
    "PublisherId",
    "SubscriptionDescription",
    "SubscriptionId",
    "ChargeStartDate",
    "ChargeEndDate",
    "TermAndBillingCycle",
    "EffectiveUnitPrice",
    "UnitType",
    "AlternateId",
    "BillableQuantity",
    "BillingFrequency",
    "PricingCurrency",
    "PCToBCExchangeRate",
    "PCToBCExchangeRateDate",
    "MeterDescription",
    "ReservationOrderId",
    "CreditReasonCode",
    "SubscriptionStartDate",
    "SubscriptionEndDate",
    "ReferenceId",
    "ProductQualifiers",
    "PromotionId",
    "ProductCategory",
]
NUMERIC = {
    "UnitPrice",
    "Quantity",
    "Subtotal",
    "TaxTotal",
    "Total",
    "EffectiveUnitPrice",
    "BillableQuantity",
    "PCToBCExchangeRate",
}
DATES = {
    "OrderDate",
    "ChargeStartDate",
    "ChargeEndDate",
    "PCToBCExchangeRateDate",
    "SubscriptionStartDate",
    "SubscriptionEndDate",
}

DEFAULTS = {name: "" for name in CSP_HEADER} | {
    "PartnerId": "3b33e682-00c3-41ee-9dd2-a548adf56438",
    "CustomerId": "c0a8a0e1-1111-4a2b-9c3d-aaaaaaaaaaaa",
    "CustomerName": "Fabrikam Ltd",
    "CustomerDomainName": "fabrikam.onmicrosoft.com",
    "CustomerCountry": "US",
    "InvoiceNumber": "G000000123",
    "MpnId": "6034453",
    "OrderId": "0ET2qaZvJGfF9wgSKnWzR5JLmhp10lOc1",
    "OrderDate": "10/3/2026",
    "ProductId": "CFQ7TTC0LFLZ",
    "SkuId": "0002",
    "AvailabilityId": "CFQ7TTC0KLWJ",
    "SkuName": "Microsoft 365 E3",
    "ProductName": "Microsoft 365 E3",
    "ChargeType": "new",
    "UnitPrice": "36.00",
    "Quantity": "1",
    "Subtotal": "36.00",
    "TaxTotal": "0",
    "Total": "36.00",
    "Currency": "USD",
    "PublisherName": "Microsoft Corporation",
    "SubscriptionId": "4d5e6f70-2222-4b3c-8d4e-bbbbbbbbbbbb",
    "ChargeStartDate": "10/3/2026",
    "ChargeEndDate": "11/2/2026",
    "TermAndBillingCycle": "1 Month Subscription",
    "EffectiveUnitPrice": "36.00",
    "UnitType": "Licenses",
    "BillableQuantity": "1",
    "BillingFrequency": "Monthly",
    "PricingCurrency": "USD",
    "PCToBCExchangeRate": "1",
    "PCToBCExchangeRateDate": "9/30/2026",
    "ProductCategory": "OnlineServicesNCE",
}


csp_row = row_maker(DEFAULTS, "CSP columns")
write_csv = csv_writer(CSP_HEADER)  # (path, rows, header=None)


def json_key(column: str) -> str:
    """The API's attribute name: camelCase (``PCToBCExchangeRate`` -> ``pcToBCExchangeRate``)."""
    return "pcToBC" + column[6:] if column.startswith("PCToBC") else column[0].lower() + column[1:]


def iso(date: str) -> str:
    """``10/3/2026`` -> ``2026-10-03T00:00:00Z`` (the API writes ISO date-times)."""
    month, day, year = date.split("/")
    return f"{year}-{int(month):02d}-{int(day):02d}T00:00:00Z"


def json_line(row: Mapping[str, str]) -> str:
    """One record as the API writes it: numbers unquoted (the text written as is), dates
    ISO, empty values null."""
    parts = []
    for column, value in row.items():
        if value == "":
            text = "null"
        elif column in NUMERIC:
            text = value
        elif column in DATES:
            text = json.dumps(iso(value))
        else:
            text = json.dumps(value)
        parts.append(f"{json.dumps(json_key(column))}: {text}")
    return "{" + ", ".join(parts) + "}"


def write_jsonl(path: Path, rows: Iterable[Mapping[str, str]]) -> Path:
    """JSON lines, gzip'ed when ``path`` ends in ``.gz``."""
    text = "".join(json_line(row) + "\n" for row in rows).encode("utf-8")
    return write_bytes(path, gzip_by_name(path, text))


def gzip_copy(source: Path, target: Path) -> Path:
    return write_bytes(target, gzip.compress(source.read_bytes()))


def read_fixture_rows() -> list[dict[str, str]]:
    return read_csv(BILLED_CSV)[1]


# The billed invoice G000000123 (October 2026), hand-made in the shape of a real export.
CUSTOMER_A = DEFAULTS["CustomerId"]
CUSTOMER_B = "d1b9b1f2-3333-4c4d-8e5f-cccccccccccc"
INVOICE_ROWS = [
    csp_row(
        Quantity="10", BillableQuantity="10", Subtotal="360.00", TaxTotal="36.00", Total="396.00"
    ),
    csp_row(
        ChargeType="addQuantity",
        OrderDate="10/8/2026",
        ChargeStartDate="10/8/2026",
        Quantity="2",
        BillableQuantity="2",
        EffectiveUnitPrice="33.675",
        Subtotal="67.35",
        TaxTotal="6.74",
        Total="74.09",
    ),
    csp_row(
        ChargeType="removeQuantity",
        OrderDate="10/20/2026",
        ChargeStartDate="10/20/2026",
        Quantity="1",
        BillableQuantity="1",
        EffectiveUnitPrice="28.80",
        Subtotal="-28.80",
        TaxTotal="-2.88",
        Total="-31.68",
        CreditReasonCode="Quantity decrease",
    ),
    csp_row(
        OrderDate="3/14/2024",
        ProductId="DZH318Z0BQ3Q",
        SkuId="0046",
        AvailabilityId="DZH318Z0BQ4C",
        ProductName="Virtual Machines DSv3 Series",
        SkuName="D2s v3",
        UnitPrice="0.096",
        Quantity="720",
        BillableQuantity="720",
        EffectiveUnitPrice="0.0816",
        Subtotal="58.75",
        TaxTotal="5.88",
        Total="64.63",
        PriceAdjustmentDescription='["Partner Earned Credit for Managed Services: 15%"]',
        ChargeStartDate="10/1/2026",
        ChargeEndDate="10/31/2026",
        TermAndBillingCycle="",
        UnitType="1 Hour",
        BillingFrequency="",
        SubscriptionDescription="Azure plan",
        MeterDescription="Virtual Machines - D2s v3 - US East",
        ProductCategory="Azure",
    ),
    csp_row(
        CustomerId=CUSTOMER_B,
        CustomerName="Northwind Traders",
        CustomerDomainName="northwind.onmicrosoft.com",
        OrderDate="10/15/2026",
        ProductId="DZH318Z0BKZ3",
        SkuId="0001",
        ProductName="Contoso Firewall",
        SkuName="Contoso Firewall Standard",
        UnitPrice="120.00",
        EffectiveUnitPrice="120.00",
        Subtotal="120.00",
        Total="120.00",
        PublisherName="Contoso Networks",
        PublisherId="contoso-networks",
        ChargeStartDate="10/15/2026",
        ChargeEndDate="11/14/2026",
        ProductCategory="SaaS",
    ),
    csp_row(
        CustomerId=CUSTOMER_B,
        CustomerName="Northwind Traders",
        ChargeType="cancelImmediate",
        OrderDate="10/2/2026",
        ProductId="CFQ7TTC0QW5P",
        SkuName="Teams Essentials",
        ProductName="Microsoft Teams Essentials",
        UnitPrice="4.00",
        EffectiveUnitPrice="4.00",
        Subtotal="-4.00",
        TaxTotal="-0.40",
        Total="-4.40",
        ChargeStartDate="9/25/2026",
        ChargeEndDate="10/24/2026",
    ),
    csp_row(
        CustomerId=CUSTOMER_B,
        CustomerName="Northwind Traders",
        OrderDate="10/10/2026",
        ProductId="DZH318Z0BQ5S",
        SkuId="0166",
        ProductName="Reserved VM Instance, Standard_D2s_v3, US East, 1 Year",
        SkuName="Standard_D2s_v3 US East 1 Year",
        UnitPrice="600.00",
        EffectiveUnitPrice="600.00",
        Subtotal="600.00",
        TaxTotal="60.00",
        Total="660.00",
        ChargeStartDate="10/10/2026",
        ChargeEndDate="10/9/2027",
        TermAndBillingCycle="1 Year Reservation",
        BillingFrequency="OneTime",
        UnitType="1 Reservation",
        ProductCategory="Azure",
    ),
]
