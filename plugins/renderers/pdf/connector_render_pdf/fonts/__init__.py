"""DejaVu Sans, shipped with the plugin and embedded in every PDF.

ReportLab's standard fonts (Helvetica) are not embedded: each viewer substitutes its
own, so a statement looked different on every machine and could not print "€" or "₹"
everywhere. The TrueType files are vendored here (licence: LICENSE-DejaVu.txt) rather
than read from /usr/share/fonts, which a user's machine may not have.
"""

from __future__ import annotations

from pathlib import Path

REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
_FOLDER = Path(__file__).parent


def register_fonts() -> None:
    """Register DejaVu Sans (regular and bold) with ReportLab, once per process."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if REGULAR in pdfmetrics.getRegisteredFontNames():
        return
    pdfmetrics.registerFont(TTFont(REGULAR, str(_FOLDER / f"{REGULAR}.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(_FOLDER / f"{BOLD}.ttf")))
    # <b> in paragraph markup picks the bold face; there is no italic in use.
    for italic in (0, 1):
        addMapping(REGULAR, 0, italic, REGULAR)
        addMapping(REGULAR, 1, italic, BOLD)
