"""Measured pieces of a page: text already wrapped and placed, fills, rules and pictures.

The statement is laid out in two passes (issue 24). The first measures and wraps
every text with ReportLab's font metrics into blocks of a known height, which are
then put on pages (:mod:`connector_render_pdf.pages`); the second only draws
(:mod:`connector_render_pdf.draw`). A block's positions are relative to its top left
corner on the page's left margin, y negative downwards, so that a block is placed on a
page by giving it a top, without copying it.

platypus did this for us before, but its general machinery (a Paragraph parsed as
markup in every table cell, a table measured and split on every layout pass, pages
held back until "of M" was known) cost three times the drawing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from reportlab.lib.colors import Color
from reportlab.pdfbase.pdfmetrics import stringWidth

# What a Paragraph folds and breaks lines at; a no-break space (CLDR puts one between
# an amount and its currency symbol) is not among them.
_SPACES = re.compile(r"[ \t\r\f\v]+")


class Text(NamedTuple):
    """One line of text: ``x`` its left edge (right-aligned text already moved left by
    its width), ``y`` its baseline."""

    x: float
    y: float
    text: str
    font: str
    size: float


class Fill(NamedTuple):
    """A filled rectangle; ``y`` is its bottom edge."""

    x: float
    y: float
    width: float
    height: float
    colour: Color


class Rule(NamedTuple):
    """A horizontal line from ``x`` to ``x_end`` at height ``y``."""

    x: float
    x_end: float
    y: float
    colour: Color
    width: float


class Picture(NamedTuple):
    """An image file drawn scaled into a box whose bottom left corner is (x, y)."""

    path: str
    x: float
    y: float
    width: float
    height: float


@dataclass(slots=True)
class Block:
    """Everything drawn in one unbreakable band of the page, ``height`` points tall."""

    height: float = 0.0
    texts: list[Text] = field(default_factory=list)
    shapes: list[Fill | Rule | Picture] = field(default_factory=list)


class Line(NamedTuple):
    """A wrapped line of text and its width in points."""

    text: str
    width: float


def wrap(text: str, font: str, size: float, room: float) -> list[Line]:
    """``text`` broken into lines no wider than ``room`` points, as a Paragraph would:
    line breaks kept, runs of spaces folded, words kept whole unless a word alone is
    wider than ``room`` (an ARN, a URL), which is then broken between characters.
    """
    lines: list[Line] = []
    for paragraph in text.split("\n"):
        words = [word for word in _SPACES.split(paragraph) if word]
        whole = " ".join(words)
        width = stringWidth(whole, font, size)
        if width <= room:  # most texts: one measure, no breaking
            lines.append(Line(whole, width))
            continue
        space = stringWidth(" ", font, size)
        current: list[str] = []
        current_width = 0.0
        for word in words:
            word_width = stringWidth(word, font, size)
            if current and current_width + space + word_width <= room:
                current.append(word)
                current_width += space + word_width
                continue
            if current:
                lines.append(Line(" ".join(current), current_width))
            while word_width > room and len(word) > 1:
                head, head_width = _longest_head(word, font, size, room)
                lines.append(Line(head, head_width))
                word = word[len(head) :]
                word_width = stringWidth(word, font, size)
            current, current_width = [word], word_width
        lines.append(Line(" ".join(current), current_width))
    return lines


def _longest_head(word: str, font: str, size: float, room: float) -> tuple[str, float]:
    """The longest start of ``word`` (at least one character) that fits in ``room``."""
    width = 0.0
    for end, character in enumerate(word):
        glyph = stringWidth(character, font, size)
        if end and width + glyph > room:
            return word[:end], width
        width += glyph
    return word, width


class Column:
    """Text stacked top down between ``left`` and ``right``, into a block's texts.

    ``y`` is where the next line's top is; a line's baseline is ``size`` below it and
    the next line ``leading`` below that line's top, as in a Paragraph.
    """

    def __init__(self, texts: list[Text], left: float, right: float, top: float = 0.0) -> None:
        self.texts = texts
        self.left, self.right = left, right
        self.y = top

    def paragraph(
        self, text: str, font: str, size: float, leading: float, *, right: bool = False
    ) -> int:
        """``text`` wrapped to the column, left or right aligned; the count of lines."""
        lines = wrap(text, font, size, self.right - self.left)
        for line in lines:
            if line.text:
                x = self.right - line.width if right else self.left
                self.texts.append(Text(x, self.y - size, line.text, font, size))
            self.y -= leading
        return len(lines)

    def space(self, points: float) -> None:
        """Leave ``points`` empty below the last line."""
        self.y -= points
