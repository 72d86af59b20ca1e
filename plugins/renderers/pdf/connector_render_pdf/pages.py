"""Where a statement's pages break: blocks put on pages top down, the line table's
header repeated on every page the table spans, no row cut across two pages.

This is the first pass's last step: once it is done the page count is known, so each
page is drawn with its "Page N of M" footer straight away.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import inch

from connector_render_pdf.blocks import Block

MARGIN = 0.75 * inch
BOTTOM_MARGIN = 0.9 * inch
# platypus's frame padding, kept so that the page looks as it did when laid out by it.
PADDING = 6
# Rounding of summed heights must not push a block that fits onto the next page.
_FUZZ = 1e-6


@dataclass(frozen=True, slots=True)
class Sheet:
    """The paper and the box the statement is laid out in (inside margins and padding)."""

    width: float
    height: float

    @classmethod
    def named(cls, page_size: str) -> Sheet:
        """A4, else US Letter."""
        return cls(*(A4 if page_size.strip().upper() == "A4" else LETTER))

    @property
    def left(self) -> float:
        return MARGIN + PADDING

    @property
    def right(self) -> float:
        return self.width - MARGIN - PADDING

    @property
    def top(self) -> float:
        return self.height - MARGIN - PADDING

    @property
    def bottom(self) -> float:
        return BOTTOM_MARGIN + PADDING

    @property
    def content_width(self) -> float:
        return self.right - self.left


class Space(NamedTuple):
    """Empty space between blocks; none at the top of a page."""

    height: float


@dataclass(slots=True)
class Table:
    """A header block, repeated at the top of every page, and its row blocks."""

    header: Block
    rows: list[Block] = field(default_factory=list)


Flow = Block | Space | Table
#: A page: each block with the page height of its top.
Page = list[tuple[float, Block]]


class _Pages:
    """The pages so far, and the height where the next block's top goes."""

    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet
        self.pages: list[Page] = [[]]
        self.y = sheet.top

    @property
    def at_top(self) -> bool:
        return not self.pages[-1]

    def make_room(self, height: float) -> None:
        """Start a new page unless ``height`` fits below the last block (or nothing is on
        this page yet: a block taller than a page goes on one of its own)."""
        if not self.at_top and self.y - height < self.sheet.bottom - _FUZZ:
            self.pages.append([])
            self.y = self.sheet.top

    def place(self, block: Block) -> None:
        self.pages[-1].append((self.y, block))
        self.y -= block.height


def paginate(flow: Iterable[Flow], sheet: Sheet) -> list[Page]:
    """The blocks of ``flow`` on as many pages as they need, in order."""
    pages = _Pages(sheet)
    for item in flow:
        if isinstance(item, Space):
            if not pages.at_top:
                pages.y -= item.height
        elif isinstance(item, Block):
            pages.make_room(item.height)
            pages.place(item)
        else:
            # A table starts where its header and first row fit, as platypus's did.
            first = item.rows[0].height if item.rows else 0.0
            pages.make_room(item.header.height + first)
            pages.place(item.header)
            for row in item.rows:
                page_count = len(pages.pages)
                pages.make_room(row.height)
                if len(pages.pages) > page_count:
                    pages.place(item.header)
                pages.place(row)
    return pages.pages
