"""The page: A4 with a running header (the table header on every page) and "Page N of M".

It also owns the font fallback: the CJK font is added only when some text needs it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import TTFFont

from reportd.generation.formats.pdf.fonts import CJK_FACE, cjk_font, dejavu, ttf
from reportd.generation.formats.pdf.style import BOTTOM, MARGIN, MUTED, RULE

if TYPE_CHECKING:
    from reportd.generation.formats.pdf.table import Table


class Document(FPDF):
    """An A4 page with a running header (table header on every page) and "Page N of M"."""

    def __init__(self, title: str, generated: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.orientation = "P"  # of every page: chosen once the columns are measured
        self.running_title = title
        self.generated = generated
        self.body: Table | None = None
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(False, BOTTOM)
        regular, bold = dejavu()
        self.add_font("body", "", regular)
        self.add_font("body", "B", bold)
        self.covered = ttf(self, "body").cmap
        self.cjk: TTFFont | bool | None = None  # False: wanted but not installed
        self.need(title)
        self.set_title(title)
        self.set_creator("reportd")

    def need(self, value: str) -> None:
        """Load the CJK fallback font when ``value`` has a character DejaVu lacks.

        Loaded only then, because parsing it costs about a second and 100 MB.
        """
        if self.cjk is None and not value.isascii() and not self._covers(value):
            self.load_cjk()

    def _covers(self, value: str) -> bool:
        return all(ord(char) in self.covered for char in value)

    def load_cjk(self) -> TTFFont | None:
        """The CJK fallback, added on first need; None when it is not installed."""
        if self.cjk is None:
            path = cjk_font()
            if path is None:
                self.cjk = False  # drawn as missing glyphs: better than failing the report
                return None
            self.add_font("cjk", "", path, collection_font_number=CJK_FACE)
            # Not exact: the one CJK weight serves bold text too (a second copy costs 100 MB).
            self.set_fallback_fonts(["cjk"], exact_match=False)
            self.cjk = ttf(self, "cjk")
        return self.cjk if isinstance(self.cjk, TTFFont) else None

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
        self.cell(self.epw / 2, 4, f"Page {self.page_no()} of {{nb}}", align="R")


def generated_line(moment: datetime | None) -> str:
    """The "Generated ..." line under the title and in the running header."""
    moment = moment or datetime.now(UTC)
    stamp = moment.strftime("%Y-%m-%d %H:%M:%S")
    zone = moment.strftime("%Z") if moment.tzinfo is not None else ""
    return f"Generated {stamp} {zone}".strip()
