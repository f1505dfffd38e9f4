"""What follows the last row: the totals row, and a note when rows are left out or missing.

Totals cover every row of the file, drawn or not, so the row says so when the table was cut
(by ``pdf.row_cap`` or ``pdf.max_pages``). A total of a column the table does not show is
written on a line below it, so no declared total is lost.
"""

from __future__ import annotations

from fpdf.enums import XPos, YPos

from reportd.generation.formats.pdf.style import DARK, INK, LINE_H, PAD_Y, TOTALS_FILL
from reportd.generation.formats.pdf.table import Table
from reportd.generation.formats.totals import Totals

TOTAL_LABEL = "Total"


def draw_closing(table: Table, totals: Totals, rows: int, drawn: int, note: str) -> None:
    """The totals row (if the template has totals) and the closing note (if any)."""
    doc = table.doc
    if totals:
        _ensure_room(table, 2 * LINE_H + 2 * PAD_Y + 12)
        _totals_row(table, totals)
        hidden = _hidden_totals(table, totals)
        if drawn < rows:
            hidden.insert(0, f"Totals are of all {rows:,} rows, not only those shown.")
        for line in hidden:
            doc.set_font("body", "", 7.5)
            doc.set_text_color(*INK)
            doc.multi_cell(doc.epw, 4, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if note:
        _ensure_room(table, 12)
        doc.ln(3)
        doc.set_font("body", "B" if rows else "", 8.5)
        doc.set_text_color(*DARK)
        doc.multi_cell(doc.epw, 4.6, note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def closing_note(rows: int, drawn: int, *, row_cap: int, max_pages: int | None, full: bool) -> str:
    """No rows, or why the table stops before the last row."""
    if rows == 0:
        return "No rows match this report."
    if drawn >= rows:
        return ""
    if full and max_pages is not None:
        return (
            f"Showing the first {drawn:,} of {rows:,} rows: this template's PDF stops at "
            f"{max_pages:,} pages (pdf.max_pages); the other formats hold every row."
        )
    return (
        f"Showing the first {drawn:,} of {rows:,} rows: "
        f"this template's PDF row cap is {row_cap:,}; the other formats hold every row."
    )


def _ensure_room(table: Table, height: float) -> None:
    doc = table.doc
    if doc.get_y() + height > table.limit:
        doc.add_page(orientation=doc.orientation)


def _totals_row(table: Table, totals: Totals) -> None:
    doc = table.doc
    by_index = totals.by_index()
    label_at = next((c.index for c in table.columns if c.index not in by_index), None)
    values = []
    for column in table.columns:
        total = by_index.get(column.index)
        shown = table.displays[column.index]
        value = TOTAL_LABEL if column.index == label_at else ""
        if total is not None:
            value = doc.printable(shown.total_text(total.kind, total.value))
        values.append(value)
    height = LINE_H + 2 * PAD_Y
    y = doc.get_y() + 0.6
    doc.set_fill_color(*TOTALS_FILL)
    doc.rect(doc.l_margin, y, doc.epw, height, style="F")
    doc.set_draw_color(*DARK)
    doc.set_line_width(0.4)
    doc.line(doc.l_margin, y, doc.w - doc.r_margin, y)
    doc.set_line_width(0.2)
    doc.set_text_color(*DARK)
    x = doc.l_margin
    spare = 0.0  # width of the empty cells just left of this one, which a total may use
    for column, value in zip(table.columns, values, strict=True):
        is_total = by_index.get(column.index) is not None
        align = "R" if is_total else column.align
        width = column.width + (spare if is_total else 0.0)
        doc.set_font("body", "B", _fitting_size(table, value, width))
        doc.set_xy(x + column.width - width, y + PAD_Y)
        doc.cell(width, LINE_H, value, align=align)
        spare = spare + column.width if not value else 0.0
        x += column.width
    doc.set_xy(doc.l_margin, y + height + 1.5)


def _fitting_size(table: Table, value: str, width: float) -> float:
    """The bold size at which ``value`` fits its column on one line: a total is never cut
    or wrapped mid-number, it is set smaller (down to 60 %) and may run into the margin."""
    doc = table.doc
    doc.set_font("body", "B", table.size)
    room = width - 2 * doc.c_margin
    needed = doc.get_string_width(value)
    if needed <= room:
        return table.size
    return max(table.size * 0.6, table.size * room / needed)


def _hidden_totals(table: Table, totals: Totals) -> list[str]:
    shown = {c.index for c in table.columns}
    titles = table.titles
    lines = []
    for total in totals.items:
        if total.index not in shown:
            text = table.displays[total.index].total_value(total.kind, total.value)
            title = titles.get(total.name, total.name)
            lines.append(table.doc.printable(f"{title} ({total.kind}): {text}"))
    return lines
