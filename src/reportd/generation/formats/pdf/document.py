"""The page: A4 with a running header (the table header on every page) and "Page N of M".

It also owns the fonts a text needs: DejaVu Sans first, then Noto Sans CJK and a monochrome
emoji font (Symbola), each added only when some text needs it. A character no font has is
drawn as ``MISSING_MARK``, never left out, and right-to-left text (Arabic, Hebrew) is shaped
by HarfBuzz (fpdf2's text shaping over uharfbuzz) in the cells that hold it only, since
shaping every cell costs time (docs/performance.md, "PDF").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import TTFFont

from reportd.generation.formats.pdf.fonts import (
    CJK_FACE,
    RIGHT_TO_LEFT,
    cjk_font,
    dejavu,
    emoji_font,
    looks_like_emoji,
    shaping_available,
    ttf,
)
from reportd.generation.formats.pdf.style import BOTTOM, MARGIN, MUTED, RULE

if TYPE_CHECKING:
    from pathlib import Path


# Drawn for a character no installed font has: visibly there, and found by a text search.
MISSING_MARK = "\ufffd"


class RunningHeader(Protocol):
    """What a page break redraws: the table's header (``table.Table``, which imports this
    module, so it is named by what it does here rather than imported)."""

    def draw_header(self) -> None: ...


class Document(FPDF):
    """An A4 page with a running header (table header on every page) and "Page N of M"."""

    def __init__(self, title: str, generated: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.str_alias_nb_pages = ""  # no alias scan: page numbers come last (number_pages)
        self.orientation = "P"  # of every page: chosen once the columns are measured
        self.generated = generated
        self.body: RunningHeader | None = None
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(False, BOTTOM)
        regular, bold = dejavu()
        self.add_font("body", "", regular)
        self.add_font("body", "B", bold)
        self.covered = ttf(self, "body").cmap
        self.cjk: TTFFont | bool | None = None  # False: wanted but not installed
        self.emoji: TTFFont | bool | None = None
        self._fallbacks: list[str] = []
        self._glyphs: dict[str, str] = {}  # character -> itself, or MISSING_MARK
        self.running_title = self.printable(title)
        self.set_title(title)
        self.set_creator("reportd")

    # --- fonts ------------------------------------------------------------------------------

    def printable(self, value: str) -> str:
        """``value`` with the fonts it needs loaded, and ``MISSING_MARK`` for characters
        that no installed font has (they would otherwise vanish from the page)."""
        if value.isascii():
            return value
        glyphs = self._glyphs
        if all(ord(char) in self.covered or glyphs.get(char) == char for char in value):
            return value
        return "".join(self._glyph(char) for char in value)

    def need(self, value: str) -> None:
        """Load the fallback fonts ``value`` needs (see ``printable``)."""
        self.printable(value)

    def _glyph(self, char: str) -> str:
        found = self._glyphs.get(char)
        if found is not None:
            return found
        code = ord(char)
        shown = char
        if code not in self.covered and unicodedata.category(char) not in ("Cc", "Cf", "Mn"):
            loaders = (self.load_emoji, self.load_cjk)
            if not looks_like_emoji(char):
                loaders = (self.load_cjk, self.load_emoji)
            if not any(_has(load(), code) for load in loaders):
                shown = MISSING_MARK
        self._glyphs[char] = shown
        return shown

    def font_for(self, char: str) -> TTFFont:
        """The font that draws ``char`` (after ``printable``): DejaVu, else a fallback."""
        code = ord(char)
        for font in (self.cjk, self.emoji):
            if isinstance(font, TTFFont) and code in font.cmap and code not in self.covered:
                return font
        return ttf(self, "body")

    def load_cjk(self) -> TTFFont | None:
        """The CJK fallback, added on first need; None when it is not installed.

        Loaded only then, because parsing it costs about a second and 100 MB.
        """
        if self.cjk is None:
            self.cjk = self._add_fallback("cjk", cjk_font(), CJK_FACE)
        return self.cjk if isinstance(self.cjk, TTFFont) else None

    def load_emoji(self) -> TTFFont | None:
        """The monochrome emoji fallback (Symbola), added on first need; None if missing."""
        if self.emoji is None:
            self.emoji = self._add_fallback("emoji", emoji_font(), 0)
        return self.emoji if isinstance(self.emoji, TTFFont) else None

    def _add_fallback(self, key: str, path: Path | None, face: int) -> TTFFont | bool:
        if path is None:
            return False  # drawn as MISSING_MARK: better than failing the report
        self.add_font(key, "", path, collection_font_number=face)
        self._fallbacks.append(key)
        # Not exact: the one weight serves bold text too (a second CJK copy costs 100 MB).
        self.set_fallback_fonts(self._fallbacks, exact_match=False)
        return ttf(self, key)

    @contextmanager
    def shaped(self, value: str) -> Iterator[bool]:
        """HarfBuzz shaping (and the bidi algorithm) while drawing ``value``, if it is
        right-to-left text; yields whether it is."""
        rtl = not value.isascii() and bool(RIGHT_TO_LEFT.search(value)) and shaping_available()
        if rtl:
            self.set_text_shaping(True)
        try:
            yield rtl
        finally:
            if rtl:
                self.set_text_shaping(False)

    # --- page furniture ---------------------------------------------------------------------

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font("body", "", 7)
        self.set_text_color(*MUTED)
        self.cell(self.epw / 2, 4, self.running_title, new_x=XPos.RIGHT)
        self.cell(self.epw / 2, 4, self.generated, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)
        if self.body is not None:
            self.body.draw_header()

    def footer(self) -> None:
        self.set_y(-10)
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y() - 1, self.w - self.r_margin, self.get_y() - 1)
        self.set_font("body", "", 7)
        self.set_text_color(*MUTED)
        self.cell(self.epw / 2, 4, f"{self.running_title} · reportd", new_x=XPos.RIGHT)

    def number_pages(self) -> None:
        """ "Page N of M" in every footer, now that M is known (call once, at the end)."""
        last = self.page
        for number in range(1, last + 1):
            self.turn_to(number)
            self.set_font("body", "", 7)
            self.set_text_color(*MUTED)
            self.set_xy(self.l_margin + self.epw / 2, self.h - 10)
            self.cell(self.epw / 2, 4, f"Page {number:,} of {last:,}", align="R")
        self.turn_to(last)

    def turn_to(self, number: int) -> None:
        """Draw on page ``number`` again; its content stream needs its own font selection."""
        self.page = number
        self.current_font_is_set_on_page = False


def _has(font: TTFFont | None, code: int) -> bool:
    return font is not None and code in font.cmap


def generated_line(moment: datetime | None) -> str:
    """The "Generated ..." line under the title and in the running header."""
    moment = moment or datetime.now(UTC)
    stamp = moment.strftime("%Y-%m-%d %H:%M:%S")
    zone = moment.strftime("%Z") if moment.tzinfo is not None else ""
    return f"Generated {stamp} {zone}".strip()
