"""Invoice options that change what a statement shows: header fields, payment method."""

from __future__ import annotations

import io

import pypdf

from connector.pipeline.build import generate
from connector.pipeline.ingest import ingest
from connector.pipeline.publish import export
from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER


def pdf_text(runtime, tmp_path, name: str) -> str:
    (statement,) = generate(runtime, "acme", "aws", OCTOBER, customer_ids=["1001"],
                            today=AFTER_CLOSE).generated  # fmt: skip
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
