"""Invoice options that change what a statement shows: header fields, payment method."""

from __future__ import annotations

import io

import pypdf

from connector.pipeline.build.build import generate
from connector.pipeline.ingest.ingest import ingest
from connector.pipeline.publish.export import export
from connector.pipeline.review.approve import approve
from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER


def pdf_text(runtime, tmp_path, name: str) -> str:
    # October is closed: the options edited between builds apply only when repriced.
    (statement,) = generate(runtime, "acme", "aws", OCTOBER, customer_ids=["1001"],
                            today=AFTER_CLOSE, reprice=True).generated  # fmt: skip
    (path,) = export(runtime, "acme", [statement.id], ["pdf"], tmp_path / name)
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_header_fields_and_payment_method_only_when_turned_on(runtime, tmp_path) -> None:
    ingest(runtime, "acme", "aws")
    config = runtime.tenants["acme"]
    options = config.invoice_options
    options.custom_fields = {"PO number": "PO-7731", "Cost centre": "CC-42"}
    config.customer("1001").payment_method = "ACH direct debit"

    off = pdf_text(runtime, tmp_path, "off")
    assert "PO-7731" not in off and "ACH direct debit" not in off
    assert "This Billing Statement is for Informational Purposes only" in off

    options.custom_fields_in_header = True
    options.show_payment_method = True
    on = pdf_text(runtime, tmp_path, "on")
    assert "PO number" in on and "PO-7731" in on and "CC-42" in on
    assert "Payment method" in on and "ACH direct debit" in on


def test_a_tenant_html_template_is_used_for_its_statements(runtime, tmp_path) -> None:
    """``renderers.html.template_dir`` (relative to the tenant file) replaces the page;
    the tenant's template extends the built-in one and changes one block."""
    ingest(runtime, "acme", "aws")
    config = runtime.tenants["acme"]
    templates = config.base_dir / "templates"
    templates.mkdir()
    (templates / "statement.html.j2").write_text(
        '{% extends "builtin/statement.html.j2" %}'
        "{% block footer %}<p>Acme-branded footer</p>{% endblock %}"
    )
    config.renderers = {"html": {"template_dir": "templates"}}
    (statement,) = generate(runtime, "acme", "aws", OCTOBER, customer_ids=["1001"],
                            today=AFTER_CLOSE).generated  # fmt: skip
    (path,) = export(runtime, "acme", [statement.id], ["html"], tmp_path / "html")
    page = path.read_text()
    assert "<p>Acme-branded footer</p>" in page
    assert config.customer("1001").name in page  # the rest is the built-in page


def rendered(runtime, tmp_path, name: str) -> dict[str, dict[str, str]]:
    """The text of customers 1001's and 1002's approved October statements as PDF, HTML
    and UBL (UBL is made for numbered statements only): customer -> format -> text."""
    generated = generate(runtime, "acme", "aws", OCTOBER, customer_ids=["1001", "1002"],
                         today=AFTER_CLOSE).generated  # fmt: skip
    approved = approve(runtime, "acme", [s.id for s in generated], actor="t")
    texts: dict[str, dict[str, str]] = {}
    for statement in approved:
        folder = tmp_path / name / statement.customer_id
        for path in export(runtime, "acme", [statement.id], ["pdf", "html", "ubl"], folder):
            if path.suffix == ".pdf":
                reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
                text = " ".join(page.extract_text() for page in reader.pages)
            else:
                text = path.read_text()
            texts.setdefault(statement.customer_id, {})[path.suffix] = " ".join(text.split())
    return texts


def test_the_tenant_wide_payment_method_is_printed_unless_the_customer_has_its_own(
    runtime, tmp_path
) -> None:
    """Regression: ``invoice_options.payment_method`` passed check-config and was never
    printed. With show_payment_method on, 1001 (no method of its own) gets the tenant's
    "Bank transfer"; 1002's own "Credit card" wins over it; on every renderer."""
    ingest(runtime, "acme", "aws")
    config = runtime.tenants["acme"]
    config.invoice_options.show_payment_method = True
    config.invoice_options.payment_method = "Bank transfer"
    config.customer("1002").payment_method = "Credit card"

    texts = rendered(runtime, tmp_path, "on")

    for fmt in (".pdf", ".html", ".xml"):
        assert "Bank transfer" in texts["1001"][fmt], fmt
        assert "Credit card" in texts["1002"][fmt], fmt
        assert "Bank transfer" not in texts["1002"][fmt], fmt


def test_no_payment_method_is_printed_when_show_payment_method_is_off(runtime, tmp_path) -> None:
    ingest(runtime, "acme", "aws")
    config = runtime.tenants["acme"]
    config.invoice_options.payment_method = "Bank transfer"
    config.customer("1002").payment_method = "Credit card"

    texts = rendered(runtime, tmp_path, "off")

    for customer in ("1001", "1002"):
        for fmt, text in texts[customer].items():
            assert "Bank transfer" not in text and "Credit card" not in text, (customer, fmt)
            assert "PaymentMeans" not in text, (customer, fmt)
