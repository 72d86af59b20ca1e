"""The html renderer: the PDF's content as one self-contained page, escaped, overridable."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from importlib.metadata import entry_points

import pytest
from connector_render_html.plugin import HtmlRenderer
from lxml import html

from connector.contracts import PluginError
from tests.factories import RESELLER, make_draft, make_statement, write_logo
from tests.renderers.factory_statement import PARTIES_AND_TERMS, TOTALS


def render(document, renderer: HtmlRenderer | None = None) -> str:
    return (renderer or HtmlRenderer()).render(document, "html").decode("utf-8")


def page(document, renderer: HtmlRenderer | None = None) -> html.HtmlElement:
    return html.fromstring(render(document, renderer))


def text_of(document, renderer: HtmlRenderer | None = None) -> str:
    """The visible text of the body, each element's text a separate word."""
    body = page(document, renderer).find("body")
    return " ".join(" ".join(body.itertext()).split())


def facts(document) -> dict[str, str]:
    rows = page(document).xpath("//table[@class='facts']/tr")
    return {row[0].text_content(): row[1].text_content() for row in rows}


def test_statement_shows_number_parties_lines_totals_notes_and_dates():
    """Totals from the factory: subtotal 448.37, tax 21.81, total 470.18."""
    document = make_statement()
    text = text_of(document)
    for expected in (*PARTIES_AND_TERMS, *TOTALS, "Amount due 470.18 USD by 2025-05-08"):
        assert expected in text, expected
    rows = page(document).xpath("//table[@class='lines']/tbody/tr")
    assert [(row.get("class"), row[0].text, row[-1].text) for row in rows] == [
        (line.kind, line.description, f"{line.amount:,}")
        for line in document.lines
        if line.kind not in ("tax", "credit")
    ]
    assert facts(document)["Due date"] == "2025-05-08"
    assert facts(document)["Issue date"] == "2025-04-08"


def test_draft_has_a_banner_and_is_numbered_draft():
    tree = page(make_draft())
    assert tree.xpath("//div[@class='draft-banner']")
    assert facts(make_draft())["Statement no."] == "DRAFT"


def test_open_statement_has_no_draft_banner():
    document = make_statement()
    assert not page(document).xpath("//div[@class='draft-banner']")
    assert "DRAFT" not in text_of(document).upper()


def test_payment_method_only_when_set():
    assert facts(make_statement(payment_method="ACH debit"))["Payment method"] == "ACH debit"
    assert "Payment method" not in facts(make_statement())


def test_custom_fields_only_when_present():
    shown = facts(make_statement(custom_fields={"PO number": "PO-77", "Cost centre": "R&D"}))
    assert (shown["PO number"], shown["Cost centre"]) == ("PO-77", "R&D")
    assert set(facts(make_statement())) == {
        "Statement no.",
        "Issue date",
        "Due date",
        "Period",
        "Provider",
        "Currency",
        "Status",
    }


def test_notes_only_when_present():
    assert page(make_statement()).xpath("//section[@class='notes']")
    assert not page(make_statement(notes=None)).xpath("//section[@class='notes']")
    assert not page(make_statement(notes="  \n ")).xpath("//section[@class='notes']")


def test_account_column_only_when_lines_are_grouped_by_account():
    grouped = page(make_statement(group_by_account=True))
    assert "Account" in [th.text for th in grouped.xpath("//table[@class='lines']//th")]
    assert grouped.xpath("//tbody/tr[1]/td[2]")[0].text == "111122223333"
    by_type = page(make_statement())
    assert "Account" not in [th.text for th in by_type.xpath("//table[@class='lines']//th")]


def test_tax_label_names_the_tax_and_rate_when_known():
    document = dataclasses.replace(
        make_statement(), tax_name="US Sales Tax", tax_rate=Decimal("0.0825")
    )
    assert "Tax (US Sales Tax 8.25%) 21.81" in text_of(document)


def test_exchange_rate_only_when_currency_was_converted():
    converted = make_statement(billing_currency="EUR", exchange_rate=Decimal("1.0850"))
    assert "Amounts converted from EUR at 1 EUR = 1.085 USD." in text_of(converted)
    assert "converted" not in text_of(make_statement(billing_currency="USD"))


def test_jpy_amounts_print_without_decimals():
    document = make_statement(currency="JPY", total=Decimal("141350"))
    assert "Total (JPY) 141,350" in text_of(document)


def test_names_and_descriptions_are_escaped():
    hostile = dataclasses.replace(
        make_statement().customer, name="<script>alert('x')</script> Evil & Co"
    )
    document = make_statement(customer=hostile, notes="<img src=x onerror=alert(1)>")
    out = render(document)
    assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Evil &amp; Co" in out
    assert "<script>alert('x')</script> Evil & Co" in text_of(document)


def test_page_is_self_contained_with_the_logo_embedded(tmp_path):
    logo = write_logo(tmp_path / "logo.png")
    out = render(make_statement(reseller=dataclasses.replace(RESELLER, logo_path=logo)))
    (img,) = html.fromstring(out).xpath("//img")
    assert img.get("src").startswith("data:image/png;base64,iVBORw0KGgo")
    for external in ("<script", "<link", 'src="http', "href=", "@import", "url("):
        assert external not in out, external


def test_missing_logo_is_left_out(tmp_path):
    missing = dataclasses.replace(RESELLER, logo_path=tmp_path / "missing.png")
    assert not page(make_statement(reseller=missing)).xpath("//img")


def test_same_document_renders_byte_identical():
    renderer = HtmlRenderer()
    first = renderer.render(make_statement(), "html")
    assert first == renderer.render(make_statement(), "html")
    assert first == HtmlRenderer().render(make_statement(), "html")


def test_override_template_is_used_when_given(tmp_path):
    (tmp_path / "statement.html.j2").write_text(
        "<p>Tenant layout for {{ customer.name }}: {{ total }} {{ currency }}</p>\n"
    )
    out = render(make_statement(), HtmlRenderer(template_dir=tmp_path))
    assert out == "<p>Tenant layout for Contoso Analytics &amp; Co.: 470.18 USD</p>\n"


def test_override_can_extend_the_builtin_and_replace_one_block(tmp_path):
    (tmp_path / "statement.html.j2").write_text(
        '{% extends "builtin/statement.html.j2" %}'
        "{% block footer %}<footer>Thank you, {{ customer.name }}!</footer>{% endblock %}"
    )
    tree = page(make_statement(), HtmlRenderer(template_dir=tmp_path))
    assert tree.xpath("//footer")[0].text == "Thank you, Contoso Analytics & Co.!"
    assert tree.xpath("//table[@class='lines']")  # the rest is the built-in page


def test_override_folder_must_exist(tmp_path):
    with pytest.raises(PluginError, match="does not exist"):
        HtmlRenderer(template_dir=tmp_path / "nowhere")


def test_broken_override_template_names_file_and_line(tmp_path):
    (tmp_path / "statement.html.j2").write_text("<p>\n{% if %}\n")
    with pytest.raises(PluginError, match=r"statement\.html\.j2, line 2"):
        render(make_statement(), HtmlRenderer(template_dir=tmp_path))


def test_override_using_an_unknown_variable_is_an_error(tmp_path):
    (tmp_path / "statement.html.j2").write_text("{{ no_such_thing }}")
    with pytest.raises(PluginError, match="no_such_thing"):
        render(make_statement(), HtmlRenderer(template_dir=tmp_path))


def test_unknown_format_is_refused():
    with pytest.raises(PluginError, match="no format 'pdf'"):
        HtmlRenderer().render(make_statement(), "pdf")


def test_html_renderer_is_discoverable():
    assert "html-renderer" in {ep.name for ep in entry_points(group="billing_connector")}
    from connector.plugins import load_plugins

    registry = load_plugins().renderers
    assert registry.get("html") is HtmlRenderer
    assert registry.suffix("html") == ".html"
