"""PDF: a report to read and send on: summary, optional chart, and a paged table.

Why it is built this way (the figures are in docs/performance.md, "PDF"):

- fpdf2 drawing with ``cell()`` and ``text()``: the fastest PDF writer measured here at sane
  memory (its ``table()`` API is 8x slower).
- Streaming: each batch is drawn as it arrives and dropped. fpdf2 keeps the page content it
  has drawn until ``output()``, so memory grows with the rows *drawn*, which the template's
  ``pdf.row_cap`` bounds; rows past the cap are only counted (and fed to the chart).
- The row count and the chart are only known at the end, so page 1 keeps room for them and
  ``close()`` goes back to draw them there (fpdf2 lets one set ``page`` to an earlier page).

One module per job: ``writer`` (the FormatWriter and page 1's layout), ``document`` (the page
with its running header and footer), ``fonts`` (the font files and glyph widths), ``columns``
(which columns, how wide), ``summary`` (the title block), ``table`` and ``wrap`` (the rows),
``chart_data`` (the chart's bounded aggregate) and ``chart`` (drawing it with matplotlib),
over ``style`` (sizes and colours).
"""

from __future__ import annotations

from reportd.generation.formats.pdf.writer import PdfWriter

__all__ = ["PdfWriter"]
