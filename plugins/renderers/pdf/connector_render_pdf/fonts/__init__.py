"""DejaVu Sans, shipped with the plugin and embedded in every PDF.

ReportLab's standard fonts (Helvetica) are not embedded: each viewer substitutes its
own, so a statement looked different on every machine and could not print "€" or "₹"
everywhere. The TrueType files are vendored here (licence: LICENSE-DejaVu.txt) rather
than read from /usr/share/fonts, which a user's machine may not have.
"""

from __future__ import annotations

import threading
from pathlib import Path

REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
_FOLDER = Path(__file__).parent


_REGISTERING = threading.Lock()


def register_fonts() -> None:
    """Register DejaVu Sans (regular and bold) with ReportLab, once per process.

    Sinks render in threads (the Xero sink attaches PDFs from a pool): the first
    caller registers both faces under a lock, and a caller that finds the regular face
    but not yet the bold one waits for it, where it used to draw with a face not yet
    registered ("no afm found for faceName='DejaVuSans-Bold'").
    """
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if BOLD in pdfmetrics.getRegisteredFontNames():  # registered last: both are there
        return
    with _REGISTERING:
        if BOLD in pdfmetrics.getRegisteredFontNames():
            return
        pdfmetrics.registerFont(TTFont(REGULAR, str(_FOLDER / f"{REGULAR}.ttf")))
        pdfmetrics.registerFont(TTFont(BOLD, str(_FOLDER / f"{BOLD}.ttf")))
