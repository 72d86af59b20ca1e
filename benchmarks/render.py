"""Render benchmark: 1,000 two-page statements as PDF, HTML and UBL on one core.

Setup (not timed): the process is pinned to one CPU (``os.sched_setaffinity``; the
first it may run on unless ``--cpu``), and ``--statements`` documents are made directly
from ``connector.contracts`` (no database: only rendering is measured). Each is an Open,
numbered statement of the shape the builder makes for a tenant that groups lines by
account: two accounts x 22 service categories (``A-C00042 · Compute 7``, so the account
column shows), two marketplace products, a rounding line, a credit and sales tax: 49
lines, which with the heading (the sample reseller, a customer of its own, header fields
and a payment method), totals and notes fill two Letter pages. One sample is checked
with pypdf to have two pages, for ours and for both floors.

Timed, alternating in blocks of ``--block`` statements so that the shared host's load
falls on both alike:

* ours: ``PdfRenderer().render(document, "pdf")``, one renderer for the whole run as
  ``connector.pipeline.publish`` uses it;
* the floor, "bare": the same two pages drawn with ReportLab's canvas directly, as
  someone would write it who knew the layout in advance: the same page size, fonts
  (the renderer's DejaVu Sans 8 and 9 and DejaVu Sans Bold 9, 10 and 18, registered by
  ``connector_render_pdf.fonts``), text (title, facts, both parties, every line's
  description, account and amount, totals, amount due, notes, footers), header band,
  zebra fills and rules, at fixed positions, with the same metadata, compression and
  ``invariant`` settings. It leaves out what a layout engine is for: measuring and
  wrapping text, splitting the table where the page ends, repeating its header, and
  knowing "of M" before the footers are drawn. Laying the same statement out is what
  the renderer does, so that is not the floor; the ratio says what the layout costs
  over drawing.

  Why DejaVu (issue 24): the floor first drew with Helvetica, one of PDF's standard
  fonts, which a file names but never embeds. The renderer must embed its fonts (a
  customer's name in any script prints the same on every viewer), so every one of
  its files pays for subsetting and writing two TrueType fonts, which that floor did
  not: it was not the same page. The floor now embeds the same fonts; the Helvetica
  floor is still timed, in the same alternation, and its ratio printed as
  ``pdf_ratio_to_bare_helvetica`` so that the change of floor is in plain sight.

Then each document as HTML (``HtmlRenderer()``, the built-in template) and as UBL
(``UblRenderer()``), one pass each. Wall and CPU seconds go to stderr; the last line is
JSON with statements per (wall) second per format, the floors', our PDFs per CPU
second (steadier than wall time on a shared host), the ratios of our PDF time to each
floor's in wall and in CPU time, the load average and this process's peak RSS.
Targets: ``pdf_per_second`` at least 100 on one core, ``pdf_ratio_to_bare`` (to the
DejaVu floor) at most 1.5.

    .venv/bin/python benchmarks/render.py [--statements 1000] [--block 100] [--cpu N]
        [--profile FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import random
import resource
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from connector_render_html.plugin import HtmlRenderer
from connector_render_pdf.fonts import BOLD, REGULAR, register_fonts
from connector_render_pdf.plugin import PdfRenderer
from connector_render_ubl.plugin import UblRenderer
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas

from connector.contracts import BillingPeriod, Party, StatementDocument, StatementLine
from connector.plugin_kit.printed_text import format_amount, format_date, period_text
from connector.testing.samples import RESELLER

PERIOD = BillingPeriod(dt.date(2026, 10, 1), dt.date(2026, 11, 1))
ACCOUNTS = 2
CATEGORIES = 22
FAMILIES = ("Compute", "Storage", "Database", "Network")
MARKETPLACE = ("Threat Manager (AWS Marketplace)", "PDF Editor (AWS Marketplace)")
TAX_RATE = Decimal("0.0825")
CENT = Decimal("0.01")
PAGES = 2


def _money(rng: random.Random, high: int) -> Decimal:
    return Decimal(rng.randrange(0, high * 100)).scaleb(-2)


def make_document(index: int, rng: random.Random) -> StatementDocument:
    """Statement ``index``: 49 lines over two accounts, totals consistent as built."""
    customer_id = f"C{index:05d}"
    lines: list[StatementLine] = []

    def add(kind: str, description: str, amount: Decimal, **fields: object) -> None:
        lines.append(StatementLine(len(lines) + 1, kind, description, amount, **fields))  # type: ignore[arg-type]

    for account in (f"A-{customer_id}", f"B-{customer_id}")[:ACCOUNTS]:
        for c in range(CATEGORIES):
            category = f"{FAMILIES[c % 4]} {c}"
            add("service", f"{account} · {category}", _money(rng, 900),
                service_category=category, account_id=account)  # fmt: skip
    for product in MARKETPLACE:
        add("marketplace", product, _money(rng, 300), service_category=product,
            account_id=f"A-{customer_id}")  # fmt: skip
    add("rounding", "Rounding adjustment", Decimal("-0.01"))
    add("credit", "Credit applied (promotional credit)", -_money(rng, 200))
    taxed = sum((line.amount for line in lines), Decimal(0))
    tax = (taxed * TAX_RATE).quantize(CENT)
    add("tax", "Sales Tax 8.25%", tax)
    subtotal = sum((line.amount for line in lines if line.kind != "tax"), Decimal(0))
    return StatementDocument(
        statement_id=f"st-{index:05d}",
        revision=1,
        tenant="bench",
        provider="aws",
        period=PERIOD,
        status="Open",
        number=f"NW-2026-{index + 1:05d}",
        issue_date=dt.date(2026, 11, 6),
        due_date=dt.date(2026, 12, 6),
        currency="USD",
        reseller=RESELLER,
        customer=Party(
            name=f"Customer {customer_id} Holdings & Co.",
            email=f"ap@{customer_id.lower()}.example",
            phone="+1 415 555 0199",
            address=(f"{index + 1} Market Street", "San Francisco, CA 94105", "United States"),
            tax_id=f"US 94-{index:07d}",
        ),
        customer_id=customer_id,
        lines=lines,
        details=[],
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
        notes="Payment by ACH to account 000123456789.\nQuestions: billing@northwind.example",
        custom_fields={"PO number": f"PO-{index:05d}"},
        payment_method="ACH transfer",
        tax_name="Sales Tax",
        tax_rate=TAX_RATE,
        billing_currency="USD",
    )


# The bare floor's geometry: LETTER, the renderer's margins, one table row per line.
_WIDTH, _HEIGHT = LETTER
_LEFT, _RIGHT = 0.75 * inch, _WIDTH - 0.75 * inch
_TOP, _BOTTOM = _HEIGHT - 0.75 * inch, 0.9 * inch
_ROW = 17.0  # a 9pt Paragraph's 11pt leading and the table's 3pt paddings
_RULE = colors.HexColor("#9aa5b1")
_HEADER_FILL = colors.HexColor("#e8edf2")
_ZEBRA_FILL = colors.HexColor("#f7f9fb")
_FOOTER_COLOUR = colors.HexColor("#555555")


def render_bare(document: StatementDocument, regular: str = REGULAR, bold: str = BOLD) -> bytes:
    """The same statement drawn at fixed positions on two pages with ReportLab's canvas,
    in the renderer's embedded fonts unless ``regular`` and ``bold`` name others."""
    register_fonts()  # once per process, as the renderer does on every statement
    buffer = io.BytesIO()
    # Each page's stream starts in ``regular``, as the renderer's does (ReportLab's
    # default would add Helvetica to the DejaVu floor's file).
    canvas = Canvas(
        buffer, pagesize=LETTER, invariant=1, pageCompression=1, initialFontName=regular
    )
    canvas.setTitle(f"Statement {document.number}")
    canvas.setAuthor(document.reseller.name)
    canvas.setSubject(f"{document.customer.name}, {document.provider} {document.period.key}")
    canvas.setCreator("Billing Connector")
    footer = f"{document.reseller.name} · Statement {document.number} · {document.customer.name}"
    y = _TOP
    canvas.setFont(bold, 10)
    canvas.drawString(_LEFT, y - 10, document.reseller.name)
    canvas.setFont(regular, 9)
    party_lines = [*document.reseller.address, document.reseller.email or ""]
    for n, text in enumerate(party_lines, start=1):
        canvas.drawString(_LEFT, y - 10 - 11 * n, text)
    canvas.setFont(bold, 18)
    canvas.drawRightString(_RIGHT, y - 18, "Statement")
    facts = [
        ("Statement no.", document.number or ""),
        ("Issue date", format_date(document.issue_date)),
        ("Due date", format_date(document.due_date)),
        ("Period", period_text(document.period.start, document.period.end)),
        ("Provider", document.provider),
        ("Currency", document.currency),
        ("Status", document.status),
        ("Payment method", document.payment_method or ""),
        *document.custom_fields.items(),
    ]
    canvas.setFont(regular, 9)
    for n, (label, value) in enumerate(facts):
        canvas.drawString(_RIGHT - 3.3 * inch, y - 48 - 11 * n, label)
        canvas.drawRightString(_RIGHT, y - 48 - 11 * n, value)
    y -= 48 + 11 * len(facts) + 16
    customer = document.customer
    canvas.drawString(_LEFT, y, "Bill to")
    canvas.setFont(bold, 10)
    canvas.drawString(_LEFT, y - 12, customer.name)
    canvas.setFont(regular, 9)
    details = [*customer.address, customer.email or "", customer.phone or "",
               f"Tax ID: {customer.tax_id}", f"Customer ID: {document.customer_id}"]  # fmt: skip
    for n, text in enumerate(details, start=1):
        canvas.drawString(_LEFT, y - 12 - 11 * n, text)
    y -= 12 + 11 * len(details) + 24
    lines = document.lines
    first_page = int((y - _BOTTOM) // _ROW) - 1
    pages = [lines[:first_page], lines[first_page:]]
    for number, page in enumerate(pages, start=1):
        if number > 1:
            canvas.showPage()
            y = _TOP
        _draw_rows(canvas, page, y, document.currency, regular, bold)
        y -= _ROW * (len(page) + 1)
        if number == len(pages):
            canvas.setFont(regular, 9)
            for label, amount in (("Subtotal", document.subtotal), ("Tax", document.tax)):
                y -= 13
                canvas.drawString(_RIGHT - 3.1 * inch, y, label)
                canvas.drawRightString(_RIGHT, y, format_amount(amount))
            canvas.line(_RIGHT - 3.1 * inch, y - 4, _RIGHT, y - 4)
            canvas.setFont(bold, 10)
            y -= 16
            canvas.drawString(_RIGHT - 3.1 * inch, y, f"Total ({document.currency})")
            canvas.drawRightString(_RIGHT, y, format_amount(document.total))
            canvas.setFont(regular, 9)
            y -= 14
            canvas.drawRightString(
                _RIGHT, y, f"Amount due {format_amount(document.total)} {document.currency} "
                f"by {format_date(document.due_date)}",
            )  # fmt: skip
            canvas.drawString(_LEFT, y - 24, "Notes")
            for n, text in enumerate((document.notes or "").splitlines(), start=1):
                canvas.drawString(_LEFT, y - 24 - 11 * n, text)
        canvas.setFont(regular, 8)
        canvas.setFillColor(_FOOTER_COLOUR)
        canvas.drawString(54, 30, footer)
        canvas.drawRightString(_WIDTH - 54, 30, f"Page {number} of {len(pages)}")
        canvas.setFillColor(colors.black)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_rows(
    canvas: Canvas,
    lines: Sequence[StatementLine],
    top: float,
    currency: str,
    regular: str,
    bold: str,
) -> None:
    """The header row and ``lines`` from ``top`` down: fills, rules, three columns."""
    amount_left = _RIGHT - 1.3 * inch
    account_left = amount_left - 1.4 * inch
    canvas.setFillColor(_HEADER_FILL)
    canvas.rect(_LEFT, top - _ROW, _RIGHT - _LEFT, _ROW, stroke=0, fill=1)
    canvas.setFillColor(_ZEBRA_FILL)
    for n in range(1, len(lines), 2):
        canvas.rect(_LEFT, top - _ROW * (n + 2), _RIGHT - _LEFT, _ROW, stroke=0, fill=1)
    canvas.setFillColor(colors.black)
    canvas.setStrokeColor(_RULE)
    canvas.setLineWidth(0.75)
    canvas.line(_LEFT, top - _ROW, _RIGHT, top - _ROW)
    canvas.line(_LEFT, top - _ROW * (len(lines) + 1), _RIGHT, top - _ROW * (len(lines) + 1))
    canvas.setFont(bold, 9)
    canvas.drawString(_LEFT + 6, top - 11, "Description")
    canvas.drawString(account_left + 6, top - 11, "Account")
    canvas.drawRightString(_RIGHT - 6, top - 11, f"Amount ({currency})")
    canvas.setFont(regular, 9)
    for n, line in enumerate(lines, start=1):
        baseline = top - _ROW * n - 11
        canvas.drawString(_LEFT + 6, baseline, line.description)
        canvas.drawString(account_left + 6, baseline, line.account_id or "")
        canvas.drawRightString(_RIGHT - 6, baseline, format_amount(line.amount))


def render_bare_helvetica(document: StatementDocument) -> bytes:
    """The floor as it was first written: Helvetica, which the file names but does not
    embed (see the module docstring)."""
    return render_bare(document, regular="Helvetica", bold="Helvetica-Bold")


def page_count(data: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)


def pin_to_one_cpu(cpu: int | None) -> int:
    """Run this process on one CPU only: ``cpu``, else the first it may run on."""
    chosen = min(os.sched_getaffinity(0)) if cpu is None else cpu
    os.sched_setaffinity(0, {chosen})
    return chosen


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


@dataclass
class Timing:
    """What rendering some statements took: wall and CPU seconds, and bytes made."""

    wall: float = 0.0
    cpu: float = 0.0
    size: int = 0

    def add(self, other: Timing) -> None:
        self.wall += other.wall
        self.cpu += other.cpu
        self.size += other.size


def timed(
    render: Callable[[StatementDocument], bytes],
    documents: Sequence[StatementDocument],
    profiler: cProfile.Profile | None = None,
) -> Timing:
    """Render ``documents`` one after the other and say what it took."""
    size = 0
    if profiler:
        profiler.enable()
    cpu, started = time.process_time(), time.perf_counter()
    for document in documents:
        size += len(render(document))
    timing = Timing(time.perf_counter() - started, time.process_time() - cpu, size)
    if profiler:
        profiler.disable()
    return timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=1_000)
    parser.add_argument("--block", type=int, default=100, help="statements per alternation")
    parser.add_argument("--cpu", type=int, help="the CPU to pin to (default: the first allowed)")
    parser.add_argument("--seed", type=int, default=20261101)
    parser.add_argument("--profile", help="write a cProfile of our PDF rendering to this file")
    args = parser.parse_args()

    cpu = pin_to_one_cpu(args.cpu)
    rng = random.Random(args.seed)
    documents = [make_document(i, rng) for i in range(args.statements)]
    pdf, html, ubl = PdfRenderer(), HtmlRenderer(), UblRenderer()
    # One of each first: imports, font metrics and templates load outside the timing,
    # and the sample's page count is checked for ours and for the floor alike.
    samples = {
        "ours": pdf.render(documents[0], "pdf"),
        "bare": render_bare(documents[0]),
        "bare_helvetica": render_bare_helvetica(documents[0]),
    }
    for name, data in samples.items():
        if page_count(data) != PAGES:
            sys.exit(f"{name}: the sample statement has {page_count(data)} pages, not {PAGES}")
    html.render(documents[0], "html")
    ubl.render(documents[0], "ubl")

    profiler = cProfile.Profile() if args.profile else None
    timings = {"pdf": Timing(), "bare": Timing(), "bare_helvetica": Timing()}
    for start in range(0, len(documents), args.block):
        block = documents[start : start + args.block]
        timings["pdf"].add(timed(lambda d: pdf.render(d, "pdf"), block, profiler))
        timings["bare"].add(timed(render_bare, block))
        timings["bare_helvetica"].add(timed(render_bare_helvetica, block))
    if profiler:
        profiler.dump_stats(args.profile)
    timings["html"] = timed(lambda d: html.render(d, "html"), documents)
    timings["ubl"] = timed(lambda d: ubl.render(d, "ubl"), documents)
    count = len(documents)
    for kind, timing in timings.items():
        print(
            f"{kind:14s} {timing.wall:6.2f}s wall {timing.cpu:6.2f}s cpu  "
            f"{timing.wall / count * 1000:6.2f} ms/statement  "
            f"{timing.size / count / 1024:5.1f} KiB/statement",
            file=sys.stderr,
        )
    pdf_time, bare_time = timings["pdf"], timings["bare"]
    helvetica_time = timings["bare_helvetica"]
    print(
        json.dumps(
            {
                "statements": count,
                "lines_per_statement": len(documents[0].lines),
                "pages_per_statement": PAGES,
                "cpu": cpu,
                "load_average": [round(load, 2) for load in os.getloadavg()],
                "pdf_seconds": round(pdf_time.wall, 2),
                "bare_seconds": round(bare_time.wall, 2),
                "pdf_per_second": round(count / pdf_time.wall, 1),
                "html_per_second": round(count / timings["html"].wall, 1),
                "ubl_per_second": round(count / timings["ubl"].wall, 1),
                "bare_per_second": round(count / bare_time.wall, 1),
                "bare_helvetica_per_second": round(count / helvetica_time.wall, 1),
                "pdf_per_cpu_second": round(count / pdf_time.cpu, 1),
                "pdf_ratio_to_bare": round(pdf_time.wall / bare_time.wall, 2),
                "pdf_cpu_ratio_to_bare": round(pdf_time.cpu / bare_time.cpu, 2),
                "pdf_ratio_to_bare_helvetica": round(pdf_time.wall / helvetica_time.wall, 2),
                "pdf_cpu_ratio_to_bare_helvetica": round(pdf_time.cpu / helvetica_time.cpu, 2),
                "peak_rss_mib": round(peak_rss_mib(), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
