"""The title block on page 1 and the facts of the run (template, options, filter, order).

The row and page counts are known only at the end, so their places are kept and filled in by
``close()``: a reader learns up front how long the document is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from fpdf.enums import XPos, YPos

from reportd.generation.formats.base import WriteContext
from reportd.generation.formats.pdf.document import Document
from reportd.generation.formats.pdf.style import DARK, INK, MUTED


class Summary:
    """Title block and the facts of the run; the row count is filled in at the end."""

    KEY_W = 28.0

    def __init__(self, doc: Document, context: WriteContext, title: str) -> None:
        self.doc = doc
        self.context = context
        self.title = title
        self.rows_at = (0.0, 0.0)
        self.pages_at = (0.0, 0.0)

    def draw(self) -> None:
        doc, context = self.doc, self.context
        doc.set_font("body", "B", 17)
        doc.set_text_color(*DARK)
        doc.multi_cell(doc.epw, 8, doc.printable(self.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        doc.set_font("body", "", 9)
        doc.set_text_color(*MUTED)
        doc.cell(doc.epw, 5, doc.generated, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        doc.set_draw_color(*DARK)
        doc.set_line_width(0.5)
        doc.line(doc.l_margin, doc.get_y() + 1.5, doc.w - doc.r_margin, doc.get_y() + 1.5)
        doc.set_line_width(0.2)
        doc.ln(4)
        template = context.template
        self._fact("Template", f"{template.name} ({template.id})")
        if context.report_name:
            self._fact("Report", context.report_name)
        self.rows_at = (doc.l_margin + self.KEY_W, doc.get_y())
        self._fact("Rows", "")
        self.pages_at = (doc.l_margin + self.KEY_W, doc.get_y())
        self._fact("Pages", "")
        self._fact("Options", _options_text(context.options))
        self._fact("Filter", context.filter or "none")
        self._fact("Order", _order_text(context.order_by))

    def _fact(self, key: str, value: str) -> None:
        doc = self.doc
        value = doc.printable(value)
        doc.set_font("body", "B", 8.5)
        doc.set_text_color(*MUTED)
        doc.cell(self.KEY_W, 4.6, key)
        doc.set_font("body", "", 8.5)
        doc.set_text_color(*INK)
        with doc.shaped(value):
            doc.multi_cell(doc.epw - self.KEY_W, 4.6, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def fill_counts(self, total: int, drawn: int, pages: int) -> None:
        doc = self.doc
        doc.set_font("body", "", 8.5)
        doc.set_text_color(*INK)
        label = f"{total:,} rows"
        if drawn < total:
            label += f" (the first {drawn:,} are shown)"
        doc.set_xy(*self.rows_at)
        doc.cell(doc.epw - self.KEY_W, 4.6, label)
        doc.set_xy(*self.pages_at)
        doc.cell(doc.epw - self.KEY_W, 4.6, f"{pages:,} page{'s' if pages != 1 else ''}")


def _options_text(options: Mapping[str, Any]) -> str:
    if not options:
        return "none"
    return ", ".join(f"{key} = {_plain_value(value)}" for key, value in options.items())


def _plain_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _order_text(order_by: Sequence[str]) -> str:
    if not order_by:
        return "as the source returns them"
    parts = [f"{k[1:]} (descending)" if k.startswith("-") else k for k in order_by]
    return ", ".join(parts)
