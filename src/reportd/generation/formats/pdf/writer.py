"""The PDF FormatWriter: streams batches into the table and lays out page 1.

Page 1's layout waits for the first batch (column widths and orientation are measured on it);
the row and page counts and the chart are drawn at ``close()``, back on page 1, once they are
known, and so is "Page N of M" on every page (the count is exact then: fpdf2's ``{nb}`` alias
would reserve a guessed width, leaving a gap or, past 999 pages, a warning).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from reportd.domain.formats import Format
from reportd.domain.models import PdfLayout
from reportd.generation.formats.base import FormatWriter, WriteContext
from reportd.generation.formats.display import column_displays
from reportd.generation.formats.pdf.chart import draw_chart
from reportd.generation.formats.pdf.chart_data import chart_data
from reportd.generation.formats.pdf.closing import closing_note, draw_closing
from reportd.generation.formats.pdf.columns import fit_widths, measure_columns
from reportd.generation.formats.pdf.document import Document, generated_line
from reportd.generation.formats.pdf.style import CHART_H
from reportd.generation.formats.pdf.summary import Summary
from reportd.generation.formats.pdf.table import Table
from reportd.generation.formats.totals import Totals


class PdfWriter(FormatWriter):
    format = Format.PDF
    rows_per_step = 512  # about 0.2 s of table drawing

    def __init__(self, path: Path, schema: pa.Schema, context: WriteContext) -> None:
        super().__init__(path, schema, context)
        self._layout = context.template.pdf or PdfLayout()
        self._titles = {f.name: f.title for f in context.fields}
        self._chart = chart_data(self._layout.chart, schema, self._titles)
        self._displays = column_displays(schema, context.template.display)
        self._totals = Totals(context.template.totals, schema)
        self._table: Table | None = None
        self._drawn = 0
        self._closed = False

    def write(self, batch: pa.RecordBatch) -> None:
        if self._table is None:
            self._table = self._start(batch)
        if self._chart is not None:
            self._chart.add(batch)
        if self._totals:
            self._totals.add(batch)
        room = self._layout.row_cap - self._drawn
        if room > 0 and not self._table.full:
            self._drawn += self._table.draw(batch.slice(0, room))
        self.rows += batch.num_rows

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        table = self._table or self._start(None)
        layout = self._layout
        note = closing_note(
            self.rows,
            self._drawn,
            row_cap=layout.row_cap,
            max_pages=layout.max_pages,
            full=table.full,
        )
        draw_closing(table, self._totals, self.rows, self._drawn, note)
        doc = table.doc
        last = doc.page
        doc.number_pages()
        doc.turn_to(1)  # back to the room kept on page 1 for what only the end knows
        table.summary.fill_counts(self.rows, self._drawn, last)
        if self._chart is not None and table.chart_box is not None:
            draw_chart(doc, self._chart, table.chart_box, self._chart_ticks())
        doc.turn_to(last)
        doc.output(str(self.path))

    def _chart_ticks(self) -> Callable[[float], str] | None:
        """The value axis in the y field's display format (``$2,000,000``), if it has one."""
        spec = self._layout.chart
        index = -1 if spec is None else self.schema.get_field_index(spec.y)
        if index < 0 or not self._displays[index].numeric:
            return None
        return self._displays[index].tick_text

    def _start(self, sample: pa.RecordBatch | None) -> Table:
        """Lay out page 1: widths and orientation need the first batch, so this waits for it."""
        title = self._layout.title or self.context.template.name
        doc = Document(title, generated_line(self.context.generated_at))
        layout = self._layout
        shown = measure_columns(self.schema, self.context, layout, sample, doc, self._displays)
        landscape = self._layout.landscape
        if landscape is None:
            landscape = sum(c.width for c in shown) > doc.epw
        doc.orientation = "L" if landscape else "P"
        doc.add_page(orientation=doc.orientation)
        fitted, size = fit_widths(shown, doc.epw)
        summary = Summary(doc, self.context, title)
        summary.draw()
        chart_box = None
        if self._chart is not None:
            chart_box = (doc.l_margin, doc.get_y() + 2, doc.epw, CHART_H[doc.orientation])
            doc.set_y(chart_box[1] + chart_box[3] + 4)
        table = Table(
            doc, fitted, size, summary, chart_box, self._displays, self._titles, layout.max_pages
        )
        table.start()
        return table
