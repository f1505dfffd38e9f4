"""The table: rows drawn as batches come, the header repeated on every page.

Cell text is the canonical rendering of ``render.text``, so values read as in the CSV.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc
from fpdf.enums import XPos, YPos

from reportd.generation.formats.pdf.columns import Column
from reportd.generation.formats.pdf.document import Document
from reportd.generation.formats.pdf.fonts import Widths
from reportd.generation.formats.pdf.style import BOTTOM, DARK, INK, LINE_H, PAD_Y, WHITE, ZEBRA
from reportd.generation.formats.pdf.summary import Summary
from reportd.generation.formats.pdf.wrap import wrap_text
from reportd.generation.formats.render import text


class Table:
    """Draws rows as batches come; a new page repeats the header (``Document.header``).

    Body text is measured from the fonts' advance widths and drawn with ``text()`` where
    DejaVu has every glyph: fpdf2's ``cell()`` re-parses each string for fallback fonts and
    markdown and costs ten times more. Text needing the CJK fallback goes through ``cell()``.
    """

    def __init__(
        self,
        doc: Document,
        columns: list[Column],
        size: float,
        summary: Summary,
        chart_box: tuple[float, float, float, float] | None,
    ) -> None:
        self.doc = doc
        self.columns = columns
        self.size = size
        self.summary = summary
        self.chart_box = chart_box
        self.count = 0
        self.limit = doc.h - BOTTOM
        doc.set_font("body", "", size)
        self.widths = Widths(doc, size)
        self.baseline = PAD_Y + LINE_H / 2 + 0.3 * doc.font_size
        self.header_lines = [self._header_wrap(c) for c in columns]

    def start(self) -> None:
        self.doc.body = self
        self.draw_header()

    def draw_header(self) -> None:
        doc = self.doc
        y = doc.get_y()
        height = max(len(lines) for lines in self.header_lines) * LINE_H + 2 * PAD_Y
        doc.set_fill_color(*DARK)
        doc.rect(doc.l_margin, y, doc.epw, height, style="F")
        doc.set_font("body", "B", self.size)
        doc.set_text_color(*WHITE)
        x = doc.l_margin
        for column, lines in zip(self.columns, self.header_lines, strict=True):
            for number, line in enumerate(lines):
                doc.set_xy(x, y + PAD_Y + number * LINE_H)
                doc.cell(column.width, LINE_H, line, align=column.align)
            x += column.width
        doc.set_xy(doc.l_margin, y + height)
        self._body_style()

    def _header_wrap(self, column: Column) -> list[str]:
        doc = self.doc
        doc.need(column.title)
        doc.set_font("body", "B", self.size)
        room = column.width - 2 * doc.c_margin
        lines = wrap_text(column.title, room, doc.get_string_width)
        doc.set_font("body", "", self.size)
        return lines

    def _body_style(self) -> None:
        self.doc.set_font("body", "", self.size)
        self.doc.set_text_color(*INK)
        self.doc.set_fill_color(*ZEBRA)

    def draw(self, batch: pa.RecordBatch) -> None:
        texts = [_cell_texts(batch.column(c.index)) for c in self.columns]
        for row in zip(*texts, strict=True):
            self._row(row)

    def _row(self, row: Sequence[str]) -> None:
        doc = self.doc
        lines = [self._wrap(v, c.width) for v, c in zip(row, self.columns, strict=True)]
        height = max(map(len, lines)) * LINE_H + 2 * PAD_Y
        if doc.y + height > self.limit:
            doc.add_page(orientation=doc.orientation)
            self._body_style()
        y = doc.y
        if self.count % 2:
            doc.rect(doc.l_margin, y, doc.epw, height, style="F")
        x = doc.l_margin
        for column, cell_lines in zip(self.columns, lines, strict=True):
            for number, line in enumerate(cell_lines):
                if line:
                    self._put(line, column, x, y + number * LINE_H)
            x += column.width
        doc.y = y + height

    def _put(self, line: str, column: Column, x: float, y: float) -> None:
        doc = self.doc
        room = column.width - 2 * doc.c_margin
        if not (line.isascii() or all(char in self.widths.plain for char in line)):
            doc.set_xy(x, y + PAD_Y)
            doc.cell(column.width, LINE_H, line, align=column.align)
            return
        left = x + doc.c_margin
        if column.align != "L":
            slack = room - self.widths.of(line)
            left += slack if column.align == "R" else slack / 2
        doc.text(left, y + self.baseline, line)

    def _wrap(self, value: str, width: float) -> list[str]:
        room = width - 2 * self.doc.c_margin
        if "\n" not in value and self.widths.of(value) <= room:
            return [value]
        return wrap_text(value, room, self.widths.of)

    def finish(self, total: int, drawn: int, cap: int) -> None:
        """The closing line: no rows, or the row cap that was hit."""
        doc = self.doc
        note = ""
        if total == 0:
            note = "No rows match this report."
        elif drawn < total:
            note = (
                f"Showing the first {drawn:,} of {total:,} rows: "
                f"this template's PDF row cap is {cap:,}; the other formats hold every row."
            )
        if not note:
            return
        if doc.get_y() + 12 > self.limit:
            doc.add_page(orientation=doc.orientation)
        doc.ln(3)
        doc.set_font("body", "B" if total else "", 8.5)
        doc.set_text_color(*DARK)
        doc.multi_cell(doc.epw, 4.6, note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _cell_texts(column: pa.Array) -> list[str]:
    """The CSV's text of each value; NULL is an empty cell, as in the CSV."""
    return pc.fill_null(text(column), "").to_pylist()  # type: ignore[no-any-return]
