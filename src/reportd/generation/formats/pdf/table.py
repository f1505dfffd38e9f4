"""The table: rows drawn as batches come, the header repeated on every page.

Cell text is the canonical rendering of ``render.text``, so values read as in the CSV, unless
the template gives the field a display format (``formats/display.py``). A template's
``pdf.max_pages`` stops the table on that page, keeping room there for the totals and the
note that says so (``closing.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from reportd.generation.formats.display import ColumnDisplay
from reportd.generation.formats.pdf.columns import Column
from reportd.generation.formats.pdf.document import Document
from reportd.generation.formats.pdf.fonts import Widths
from reportd.generation.formats.pdf.style import (
    BOTTOM,
    CLOSING_ROOM,
    DARK,
    INK,
    LINE_H,
    PAD_Y,
    WHITE,
    ZEBRA,
)
from reportd.generation.formats.pdf.summary import Summary
from reportd.generation.formats.pdf.wrap import wrap_text


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
        displays: Sequence[ColumnDisplay],
        titles: Mapping[str, str],
        max_pages: int | None = None,
    ) -> None:
        self.doc = doc
        self.columns = columns
        self.size = size
        self.summary = summary
        self.chart_box = chart_box
        self.displays = displays
        self.titles = titles
        self.max_pages = max_pages
        self.full = False  # the page cap was reached: no more rows are drawn
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
        title = doc.printable(column.title)
        doc.set_font("body", "B", self.size)
        room = column.width - 2 * doc.c_margin
        lines = wrap_text(title, room, doc.get_string_width)
        doc.set_font("body", "", self.size)
        return lines

    def _body_style(self) -> None:
        self.doc.set_font("body", "", self.size)
        self.doc.set_text_color(*INK)
        self.doc.set_fill_color(*ZEBRA)

    def draw(self, batch: pa.RecordBatch) -> int:
        """Draw the batch's rows; the number drawn (fewer once the page cap is reached)."""
        texts = [self._cell_texts(c.index, batch.column(c.index)) for c in self.columns]
        drawn = 0
        for row in zip(*texts, strict=True):
            if self.full or not self._row(row):
                break
            drawn += 1
        return drawn

    def _cell_texts(self, index: int, column: pa.Array) -> list[str]:
        """The text shown of each value; NULL is an empty cell, as in the CSV."""
        texts: list[str] = pc.fill_null(self.displays[index].texts(column), "").to_pylist()
        printable = self.doc.printable
        return [printable(value) for value in texts]

    def _row(self, row: Sequence[str]) -> bool:
        doc = self.doc
        lines = [self._wrap(v, c.width) for v, c in zip(row, self.columns, strict=True)]
        height = max(map(len, lines)) * LINE_H + 2 * PAD_Y
        if doc.y + height > self.room():
            if self.max_pages is not None and doc.page >= self.max_pages:
                self.full = True
                return False
            doc.add_page(orientation=doc.orientation)
            self._body_style()
        y = doc.y
        if self.count % 2:
            doc.rect(doc.l_margin, y, doc.epw, height, style="F")
        self.count += 1
        x = doc.l_margin
        for column, cell_lines in zip(self.columns, lines, strict=True):
            for number, line in enumerate(cell_lines):
                if line:
                    self._put(line, column, x, y + number * LINE_H)
            x += column.width
        doc.y = y + height
        return True

    def room(self) -> float:
        """Where rows must end on this page: the last page allowed keeps the closing's room."""
        if self.max_pages is not None and self.doc.page >= self.max_pages:
            return self.limit - CLOSING_ROOM
        return self.limit

    def _put(self, line: str, column: Column, x: float, y: float) -> None:
        doc = self.doc
        room = column.width - 2 * doc.c_margin
        if not (line.isascii() or all(char in self.widths.plain for char in line)):
            self._put_cell(line, column, x, y)
            return
        left = x + doc.c_margin
        if column.align != "L":
            slack = room - self.widths.of(line)
            left += slack if column.align == "R" else slack / 2
        doc.text(left, y + self.baseline, line)

    def _put_cell(self, line: str, column: Column, x: float, y: float) -> None:
        """Through ``cell()``: fallback fonts, and shaping for right-to-left text (which a
        left-aligned column then aligns right, as its readers expect)."""
        doc = self.doc
        doc.set_xy(x, y + PAD_Y)
        with doc.shaped(line) as rtl:
            align = "R" if rtl and column.align == "L" else column.align
            doc.cell(column.width, LINE_H, line, align=align)

    def _wrap(self, value: str, width: float) -> list[str]:
        room = width - 2 * self.doc.c_margin
        if "\n" not in value and self.widths.of(value) <= room:
            return [value]
        return wrap_text(value, room, self.widths.of)
