"""Bar charts as hand-made SVG, drawn on the server for the reports page.

Why hand-made: the page's Content-Security-Policy allows no third-party script, and a
chart of a few bars (spend and margin per month or per service) needs only rectangles
and text. The SVG scales to its container (``viewBox``, width 100%), so it never makes
a narrow window overflow; every bar carries a ``<title>`` with its exact amount, and
the chart an ``aria-label`` and a caption-like ``<title>``.

Amounts stay ``Decimal``; only the drawing coordinates are floats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from markupsafe import Markup

from connector.domain.money import minor_units

WIDTH = 640
LABEL_WIDTH = 200  # room for a service category's name
VALUE_WIDTH = 110  # room for the amount written after the longest bar
BAR = 14
GAP = 4
GROUP_GAP = 12
TOP = 34  # title and legend


@dataclass(frozen=True, slots=True)
class Series:
    """One kind of bar (e.g. spend, margin) and the CSS class that colours it."""

    name: str
    css: str


@dataclass(frozen=True, slots=True)
class Group:
    """One label (a month, a service) with one amount per series, in series order."""

    label: str
    values: tuple[Decimal, ...]


def _short(label: str, most: int = 26) -> str:
    # The whole label stays in each bar's <title>; the axis shows what fits.
    return label if len(label) <= most else label[: most - 1] + "…"


def _amount(value: Decimal, currency: str) -> str:
    return f"{value:,.{minor_units(currency)}f}"


def bar_chart(
    title: str, series: Sequence[Series], groups: Sequence[Group], currency: str, ident: str
) -> Markup:
    """A horizontal grouped bar chart: per group one bar per series, negative amounts
    drawn left of the zero line. ``ident`` is the element id (tests and links find it)."""
    values = [v for g in groups for v in g.values]
    low = min([Decimal(0), *values])
    high = max([Decimal(0), *values])
    span = (high - low) or Decimal(1)
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH

    def x(value: Decimal) -> float:
        return LABEL_WIDTH + float((value - low) / span) * plot

    per_group = len(series) * (BAR + GAP) + GROUP_GAP
    height = TOP + max(len(groups), 1) * per_group + 6
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(ident)}" class="chart" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="14" class="chart-title">{escape(title)}</text>',
    ]
    legend_x = LABEL_WIDTH
    for s in series:
        parts.append(
            f'<rect x="{legend_x}" y="20" width="10" height="10" class="{escape(s.css)}"/>'
            f'<text x="{legend_x + 14}" y="29" class="chart-legend">{escape(s.name)}</text>'
        )
        legend_x += 14 + 9 * len(s.name) + 16
    zero = x(Decimal(0))
    y = TOP
    for group in groups:
        label_y = y + len(series) * (BAR + GAP) / 2 + 4
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{label_y:.1f}" text-anchor="end" '
            f'class="chart-label">{escape(_short(group.label))}</text>'
        )
        for s, value in zip(series, group.values, strict=True):
            left, right = sorted((zero, x(value)))
            text = _amount(value, currency)
            parts.append(
                f'<rect x="{left:.1f}" y="{y}" width="{max(right - left, 0.5):.1f}" '
                f'height="{BAR}" class="{escape(s.css)}"><title>{escape(group.label)}, '
                f"{escape(s.name)}: {text} {escape(currency)}</title></rect>"
                f'<text x="{max(right, zero) + 4:.1f}" y="{y + BAR - 3}" '
                f'class="chart-value">{text}</text>'
            )
            y += BAR + GAP
        y += GROUP_GAP
    parts.append(f'<line x1="{zero:.1f}" y1="{TOP - 2}" x2="{zero:.1f}" y2="{height - 4}" '
                 'class="chart-axis"/>')  # fmt: skip
    parts.append("</svg>")
    return Markup("".join(parts))
