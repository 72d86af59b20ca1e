"""Statements printed the tenant's way: paper, number and date formats, embedded fonts,
the provider's display name; and the A4 GB and Letter US screenshots under docs/."""

from __future__ import annotations

import datetime as dt
import io
import math
from decimal import Decimal
from pathlib import Path

import pytest
from connector_render_pdf.plugin import PdfRenderer
from pypdf import PdfReader

from connector.config import load_tenant
from connector.contracts import BillingPeriod, Party
from connector.pipeline.build.documents import page_size, provider_name
from connector.plugin_kit.printed_text import format_amount, format_date, format_money
from tests.factories import make_statement

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "tenants" / "acme.yaml"
SCREENSHOTS = REPO / "docs" / "screenshots"
# PDF points of each paper (portrait): ISO 216 A4 and US Letter.
A4_POINTS = (595, 842)
LETTER_POINTS = (612, 792)


def render(document) -> bytes:
    return PdfRenderer().render(document, "pdf")


def text_of(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def paper(data: bytes) -> tuple[int, int]:
    box = PdfReader(io.BytesIO(data)).pages[0].mediabox
    return round(float(box.width)), round(float(box.height))


def tenant_in(country: str, **invoice_options):
    config = load_tenant(EXAMPLE)
    profile = config.profile.model_copy(update={"country": country})
    options = config.invoice_options.model_copy(update=invoice_options)
    return config.model_copy(update={"profile": profile, "invoice_options": options})


# A British reseller and customer, for the A4 GB statement.
GB_RESELLER = Party(
    name="Northwind Cloud Services Ltd",
    email="billing@northwind.example",
    phone="+44 20 7946 0100",
    address=("1 King's Road", "London SW3 4RP", "United Kingdom"),
    tax_id="GB 123 4567 89",
)
GB_CUSTOMER = Party(
    name="Contoso Analytics & Co. Ltd",
    email="ap@contoso.example",
    address=("88 Deansgate", "Manchester M3 2BW", "United Kingdom"),
    tax_id="GB 987 6543 21",
)


def gb_statement(**fields):
    return make_statement(
        currency="GBP",
        country="GB",
        page_size="A4",
        provider_name="Amazon Web Services",
        reseller=GB_RESELLER,
        customer=GB_CUSTOMER,
        period=BillingPeriod(dt.date(2026, 10, 1), dt.date(2026, 11, 1)),
        issue_date=dt.date(2026, 10, 31),
        due_date=dt.date(2026, 11, 30),
        **fields,
    )


@pytest.mark.parametrize(
    ("country", "expected"), [("US", "LETTER"), ("CA", "LETTER"), ("GB", "A4"), ("DE", "A4")]
)
def test_page_size_is_letter_in_us_and_canada_and_a4_elsewhere(country, expected):
    assert page_size(tenant_in(country)) == expected


def test_page_size_option_overrides_the_country():
    assert page_size(tenant_in("GB", page_size="LETTER")) == "LETTER"
    assert page_size(tenant_in("US", page_size="A4")) == "A4"


def test_pdf_is_printed_on_the_documents_paper():
    assert paper(render(make_statement(page_size="A4"))) == A4_POINTS
    assert paper(render(make_statement(page_size="LETTER"))) == LETTER_POINTS


def test_money_and_dates_follow_the_locale():
    assert format_money(Decimal("1234.50"), "GBP", "en_GB") == "£1,234.50"
    # CLDR's no-break space keeps the amount and its symbol on one line.
    assert format_money(Decimal("1234.50"), "EUR", "de_DE") == "1.234,50\xa0€"
    assert format_amount(Decimal("1234.50"), "de_DE") == "1.234,50"
    assert format_date(dt.date(2026, 10, 31), "en_GB") == "31 October 2026"
    # The amount's own places, not CLDR's display digits (0 for HUF, 3 kept for BHD).
    assert format_money(Decimal("1234.50"), "HUF", "hu_HU") == "1\xa0234,50\xa0Ft"
    assert format_money(Decimal("1.250"), "BHD", "en_GB") == "BHD1.250"


def test_gb_statement_prints_pounds_and_british_dates():
    document = gb_statement()
    text = text_of(render(document))
    assert "31 October 2026" in text
    assert "30 November 2026" in text
    assert f"Total (GBP) £{document.total:,}" in text
    assert "2026-10-31" not in text


def test_de_statement_prints_german_amounts():
    document = make_statement(currency="EUR", country="DE", page_size="A4")
    text = text_of(render(document))
    german = f"{document.total:,}".replace(",", "X").replace(".", ",").replace("X", ".")
    assert f"{german} €" in text
    assert "8. April 2025" in text


def test_locale_option_overrides_the_countrys_usual_one():
    text = text_of(render(make_statement(currency="EUR", country="DE", locale="en_IE")))
    assert "8 April 2025" in text


def test_fonts_are_embedded_dejavu_truetype():
    reader = PdfReader(io.BytesIO(render(gb_statement())))
    fonts = [
        font.get_object() for page in reader.pages for font in page["/Resources"]["/Font"].values()
    ]
    assert fonts
    for font in fonts:
        assert font["/Subtype"] == "/TrueType", font["/BaseFont"]
        assert "DejaVuSans" in font["/BaseFont"]
        assert "/FontFile2" in font["/FontDescriptor"].get_object()


def test_statement_names_the_provider_by_its_display_name():
    assert provider_name(tenant_in("US"), "aws") == "Amazon Web Services"
    text = text_of(render(gb_statement()))
    assert "Provider Amazon Web Services" in text


def test_provider_without_a_display_name_is_named_by_its_key():
    assert provider_name(tenant_in("US"), "no-such-provider") == "no-such-provider"
    assert "Provider aws" in text_of(render(make_statement()))


@pytest.mark.parametrize(
    ("name", "document", "points"),
    [
        ("statement-a4-gb.png", gb_statement, A4_POINTS),
        (
            "statement-letter-us.png",
            lambda: make_statement(
                country="US", page_size="LETTER", provider_name="Amazon Web Services"
            ),
            LETTER_POINTS,
        ),
    ],
)
def test_screenshot_of_the_first_page(name, document, points):
    """docs/screenshots/statement-*.png: the first page at 100 dpi, made here."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument(render(document()))
    image = pdf[0].render(scale=100 / 72).to_pil()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    image.save(SCREENSHOTS / name)
    # pdfium rounds a part pixel up.
    assert image.size == tuple(math.ceil(side * 100 / 72) for side in points)


def test_locale_option_is_checked_and_an_unknown_one_falls_back_to_the_country():
    from pydantic import ValidationError

    from connector.config.tenant import InvoiceOptions

    with pytest.raises(ValidationError, match="locale"):
        InvoiceOptions(locale="english")
    text = text_of(render(make_statement(currency="GBP", country="GB", locale="xx_XX")))
    assert "8 April 2025" in text
