"""PDF: a report to read and send on: summary, optional chart, and a paged table.

Why it is built this way:

- fpdf2 drawing with ``cell()``: the fastest PDF writer measured here at sane memory
  (FACTS: 3.9 s / 136 MB for 10,000 rows; its ``table()`` API is 8x slower).
- Streaming: each batch is drawn as it arrives and dropped. fpdf2 keeps the page content it
  has drawn until ``output()``, so memory grows with the rows *drawn*, which the template's
  ``pdf.row_cap`` bounds; rows past the cap are only counted (and fed to the chart).
- The row count and the chart are only known at the end, so page 1 keeps room for them and
  ``close()`` goes back to draw them there (fpdf2 lets one set ``page`` to an earlier page).
- The chart is aggregated while streaming with bounded state (sums per category, top N plus
  "Other"; a line series re-binned coarser whenever it grows past a point budget), and
  rendered by matplotlib (Agg, imported only here) as a 200-dpi PNG.
- Fonts: DejaVu Sans from matplotlib's own wheel (Latin, Greek, Cyrillic; always installed
  with matplotlib) and Noto Sans CJK KR from the ``noto-cjk-sans-otc`` wheel as the fallback
  for Hangul and Han; both are subset-embedded.
- Cell text is the canonical rendering of ``render.text``, so values read as in the CSV.
- Column widths come from the header and the first batch; the page turns landscape when the
  columns need more than a portrait page (unless ``pdf.landscape`` says otherwise).
"""

from __future__ import annotations

import importlib.util
import io
import json
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import TTFFont

from reportd.domain.formats import Format
from reportd.domain.models import ChartSpec, PdfLayout
from reportd.generation.formats.base import FormatWriter, WriteContext
from reportd.generation.formats.render import finite_or_null, plain, text

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

MARGIN = 12.0
BOTTOM = 15.0
LINE_H = 3.6  # mm per text line in the table
PAD_Y = 0.9
BODY_PT = 7.5
SMALL_BODY_PT = 6.5
MAX_LINES = 3  # longer cell text is cut with an ellipsis after this many lines
MIN_COL_W, MAX_COL_W = 12.0, 70.0
SAMPLE_ROWS = 200
CHART_H = {"P": 72.0, "L": 62.0}
CJK_FACE = 1  # "Noto Sans CJK KR" in the collection: Korean glyph forms for Han too

DARK = (38, 50, 66)
MUTED = (110, 120, 132)
INK = (30, 33, 38)
ZEBRA = (241, 244, 248)
RULE = (200, 206, 214)
WHITE = (255, 255, 255)
OTHER_COLOR = "#b4bcc6"
CHART_COLORS = ("#3b6ea8", "#e08a3c", "#4e9a6a", "#c24d4d", "#8065a8", "#8c6d52", "#cc6fae")


@dataclass(frozen=True, slots=True)
class _Column:
    index: int
    title: str
    width: float
    align: str


class PdfWriter(FormatWriter):
    format = Format.PDF

    def __init__(self, path: Path, schema: pa.Schema, context: WriteContext) -> None:
        super().__init__(path, schema, context)
        self._layout = context.template.pdf or PdfLayout()
        titles = {f.name: f.title for f in context.fields}
        self._chart = _chart_data(self._layout.chart, schema, titles)
        self._table: _Table | None = None
        self._drawn = 0
        self._closed = False

    def write(self, batch: pa.RecordBatch) -> None:
        if self._table is None:
            self._table = self._start(batch)
        if self._chart is not None:
            self._chart.add(batch)
        room = self._layout.row_cap - self._drawn
        if room > 0:
            self._table.draw(batch.slice(0, room))
            self._drawn += min(room, batch.num_rows)
        self.rows += batch.num_rows

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        table = self._table or self._start(None)
        table.finish(self.rows, self._drawn, self._layout.row_cap)
        doc = table.doc
        last = doc.page
        doc.page = 1  # back to the room kept on page 1 for what only the end knows
        table.summary.fill_rows(self.rows, self._drawn)
        if self._chart is not None and table.chart_box is not None:
            _draw_chart(doc, self._chart, table.chart_box)
        doc.page = last
        doc.output(str(self.path))

    def _start(self, sample: pa.RecordBatch | None) -> _Table:
        """Lay out page 1: widths and orientation need the first batch, so this waits for it."""
        title = self._layout.title or self.context.template.name
        doc = _Document(title, _when(self.context.generated_at))
        columns = _columns(self.schema, self.context, self._layout, sample, doc)
        landscape = self._layout.landscape
        if landscape is None:
            landscape = sum(c.width for c in columns) > doc.epw
        doc.orientation = "L" if landscape else "P"
        doc.add_page(orientation=doc.orientation)
        columns, size = _fit_widths(columns, doc.epw)
        summary = _Summary(doc, self.context, title)
        summary.draw()
        chart_box = None
        if self._chart is not None:
            chart_box = (doc.l_margin, doc.get_y() + 2, doc.epw, CHART_H[doc.orientation])
            doc.set_y(chart_box[1] + chart_box[3] + 4)
        table = _Table(doc, columns, size, summary, chart_box)
        table.start()
        return table


class _Document(FPDF):
    """An A4 page with a running header (table header on every page) and "Page N of M"."""

    def __init__(self, title: str, generated: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.orientation = "P"  # of every page: chosen once the columns are measured
        self.running_title = title
        self.generated = generated
        self.body: _Table | None = None
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(False, BOTTOM)
        regular, bold = _dejavu()
        self.add_font("body", "", regular)
        self.add_font("body", "B", bold)
        self.covered = _ttf(self, "body").cmap
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
            path = _cjk_font()
            if path is None:
                self.cjk = False  # drawn as missing glyphs: better than failing the report
                return None
            self.add_font("cjk", "", path, collection_font_number=CJK_FACE)
            # Not exact: the one CJK weight serves bold text too (a second copy costs 100 MB).
            self.set_fallback_fonts(["cjk"], exact_match=False)
            self.cjk = _ttf(self, "cjk")
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


def _ttf(doc: FPDF, key: str) -> TTFFont:
    font = doc.fonts[key]
    if not isinstance(font, TTFFont):
        raise TypeError(f"font {key!r} is not a TrueType/OpenType font")
    return font


@cache
def _dejavu() -> tuple[Path, Path]:
    """DejaVu Sans as matplotlib ships it; found without importing matplotlib (slow)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the PDF format needs matplotlib: pip install matplotlib")
    ttf = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
    return ttf / "DejaVuSans.ttf", ttf / "DejaVuSans-Bold.ttf"


_DEBIAN_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


@cache
def _cjk_font() -> Path | None:
    """Noto Sans CJK from its wheel (a dependency), else Debian's fonts-noto-cjk, else none."""
    try:
        path = Path(str(resources.files("noto_cjk_sans_otc") / "NotoSansCJK-Regular.ttc"))
    except ModuleNotFoundError:
        path = _DEBIAN_CJK
    return path if path.is_file() else None


def _when(moment: datetime | None) -> str:
    moment = moment or datetime.now(UTC)
    stamp = moment.strftime("%Y-%m-%d %H:%M:%S")
    zone = moment.strftime("%Z") if moment.tzinfo is not None else ""
    return f"Generated {stamp} {zone}".strip()


# -- columns -------------------------------------------------------------------------------


def _columns(
    schema: pa.Schema,
    context: WriteContext,
    layout: PdfLayout,
    sample: pa.RecordBatch | None,
    doc: _Document,
) -> list[_Column]:
    """The shown columns (``pdf.columns`` or all) at their natural widths."""
    titles = {f.name: f.title for f in context.fields}
    names = [n for n in layout.columns if n in schema.names] or list(schema.names)
    result = []
    for name in names:
        index = schema.get_field_index(name)
        title = titles.get(name, name)
        values = _sample_texts(sample, index)
        width = _natural_width(doc, title, values)
        result.append(_Column(index, title, width, _align(schema.field(index).type)))
    return result


def _sample_texts(sample: pa.RecordBatch | None, index: int) -> list[str]:
    if sample is None:
        return []
    return [v for v in text(sample.column(index).slice(0, SAMPLE_ROWS)).to_pylist() if v]


def _natural_width(doc: _Document, title: str, values: Sequence[str]) -> float:
    """Fits the header and nine values in ten of the sample, within sane bounds."""
    doc.set_font("body", "B", BODY_PT)
    header = doc.get_string_width(title) + 2 * doc.c_margin
    doc.set_font("body", "", BODY_PT)
    for value in values:
        doc.need(value)
    widths = sorted(doc.get_string_width(v) for v in values)
    body = widths[int(len(widths) * 0.9)] + 2 * doc.c_margin + 1 if widths else 0.0
    return min(MAX_COL_W, max(MIN_COL_W, header, body))


def _align(arrow_type: pa.DataType) -> str:
    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type):
        return "R"
    return "C" if pa.types.is_boolean(arrow_type) else "L"


def _fit_widths(columns: list[_Column], room: float) -> tuple[list[_Column], float]:
    """Scale the widths to fill the page; a smaller type when they are squeezed hard."""
    natural = sum(c.width for c in columns) or 1.0
    scale = room / natural
    size = BODY_PT if scale >= 0.75 else SMALL_BODY_PT
    fitted = [_Column(c.index, c.title, c.width * scale, c.align) for c in columns]
    return fitted, size


# -- summary -------------------------------------------------------------------------------


class _Summary:
    """Title block and the facts of the run; the row count is filled in at the end."""

    KEY_W = 28.0

    def __init__(self, doc: _Document, context: WriteContext, title: str) -> None:
        self.doc = doc
        self.context = context
        self.title = title
        self.rows_at = (0.0, 0.0)

    def draw(self) -> None:
        doc, context = self.doc, self.context
        doc.set_font("body", "B", 17)
        doc.set_text_color(*DARK)
        doc.multi_cell(doc.epw, 8, self.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
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
        self._fact("Options", _options_text(context.options))
        self._fact("Filter", context.filter or "none")
        self._fact("Order", _order_text(context.order_by))

    def _fact(self, key: str, value: str) -> None:
        doc = self.doc
        doc.need(value)
        doc.set_font("body", "B", 8.5)
        doc.set_text_color(*MUTED)
        doc.cell(self.KEY_W, 4.6, key)
        doc.set_font("body", "", 8.5)
        doc.set_text_color(*INK)
        doc.multi_cell(doc.epw - self.KEY_W, 4.6, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def fill_rows(self, total: int, drawn: int) -> None:
        doc = self.doc
        doc.set_xy(*self.rows_at)
        doc.set_font("body", "", 8.5)
        doc.set_text_color(*INK)
        label = f"{total:,} rows"
        if drawn < total:
            label += f" (the first {drawn:,} are shown)"
        doc.cell(doc.epw - self.KEY_W, 4.6, label)


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


# -- table ---------------------------------------------------------------------------------


class _Table:
    """Draws rows as batches come; a new page repeats the header (``_Document.header``).

    Body text is measured from the fonts' advance widths and drawn with ``text()`` where
    DejaVu has every glyph: fpdf2's ``cell()`` re-parses each string for fallback fonts and
    markdown and costs ten times more. Text needing the CJK fallback goes through ``cell()``.
    """

    def __init__(
        self,
        doc: _Document,
        columns: list[_Column],
        size: float,
        summary: _Summary,
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
        self.widths = _Widths(doc, size)
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

    def _header_wrap(self, column: _Column) -> list[str]:
        doc = self.doc
        doc.need(column.title)
        doc.set_font("body", "B", self.size)
        room = column.width - 2 * doc.c_margin
        lines = _wrap_text(column.title, room, doc.get_string_width)
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

    def _put(self, line: str, column: _Column, x: float, y: float) -> None:
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
        return _wrap_text(value, room, self.widths.of)

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


class _Widths(dict[str, float]):
    """Advance width (mm) of each character at the body size, looked up on first sight."""

    def __init__(self, doc: _Document, size: float) -> None:
        super().__init__()
        self.doc = doc
        self.scale = size * 0.001 / doc.k
        self.plain: set[str] = set()  # characters DejaVu draws (``text()`` may be used)

    def __missing__(self, char: str) -> float:
        code = ord(char)
        font = _ttf(self.doc, "body")
        if code in font.cmap:
            self.plain.add(char)
        else:
            font = self.doc.load_cjk() or font
        width: float = font.cw[code] * self.scale
        self[char] = width
        return width

    def of(self, value: str) -> float:
        return sum(map(self.__getitem__, value))


def _cell_texts(column: pa.Array) -> list[str]:
    """The CSV's text of each value; NULL is an empty cell, as in the CSV."""
    return pc.fill_null(text(column), "").to_pylist()  # type: ignore[no-any-return]


def _wrap_text(value: str, room: float, measure: Any) -> list[str]:
    """Greedy word wrap (by character where a word is too long, as CJK text always is)."""
    lines: list[str] = []
    for paragraph in value.replace("\r\n", "\n").split("\n"):
        lines.extend(_wrap_paragraph(paragraph, room, measure))
        if len(lines) > MAX_LINES:
            break
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES]
        lines[-1] = _ellipsize(lines[-1], room, measure)
    return lines or [""]


def _wrap_paragraph(paragraph: str, room: float, measure: Any) -> Iterator[str]:
    line = ""
    for word in paragraph.split(" "):
        candidate = f"{line} {word}" if line else word
        if measure(candidate) <= room:
            line = candidate
            continue
        if line:
            yield line
        line = word
        while measure(line) > room and len(line) > 1:
            cut = _longest_prefix(line, room, measure)
            yield line[:cut]
            line = line[cut:]
    yield line


def _longest_prefix(value: str, room: float, measure: Any) -> int:
    low, high = 1, len(value)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(value[:middle]) <= room:
            low = middle
        else:
            high = middle - 1
    return low


def _ellipsize(line: str, room: float, measure: Any) -> str:
    while line and measure(line + "…") > room:
        line = line[:-1]
    return line.rstrip() + "…"


# -- chart ---------------------------------------------------------------------------------

MAX_CATEGORIES = 2_000  # kept while streaming; pruned to half by size when exceeded
MAX_POINTS = 2_000  # line chart points kept; re-binned coarser when exceeded
TOP = {"bar": 12, "pie": 7}


class _ChartData(ABC):
    """What one chart needs, aggregated batch by batch in bounded memory."""

    def __init__(self, spec: ChartSpec, schema: pa.Schema, titles: Mapping[str, str]) -> None:
        self.spec = spec
        self.x = schema.get_field_index(spec.x)
        y = schema.get_field_index(spec.y)
        numeric = y >= 0 and _is_number(schema.field(y).type)
        self.y = y if numeric else -1  # not a number: count rows instead
        y_title = titles.get(spec.y, spec.y) if numeric else "Rows"
        self.title = f"{y_title} by {titles.get(spec.x, spec.x)}"
        self.sums: dict[Any, float] = {}

    @abstractmethod
    def add(self, batch: pa.RecordBatch) -> None:
        """Fold one batch into the aggregate."""

    def _xy(self, batch: pa.RecordBatch) -> tuple[pa.Array, pa.Array]:
        x = plain(batch.column(self.x))
        if self.y < 0:
            return x, pa.repeat(1.0, batch.num_rows) if batch.num_rows else pa.array(
                [], pa.float64()
            )
        y = pc.cast(batch.column(self.y), pa.float64())
        return x, finite_or_null(y)


class _Categories(_ChartData):
    """Sum of y per x (bar, pie, or a line over text x): top categories plus "Other"."""

    def __init__(self, spec: ChartSpec, schema: pa.Schema, titles: Mapping[str, str]) -> None:
        super().__init__(spec, schema, titles)
        self.other = 0.0

    def add(self, batch: pa.RecordBatch) -> None:
        x, y = self._xy(batch)
        labels = pc.fill_null(text(x), "(empty)")
        grouped = pa.table({"x": labels, "y": y}).group_by("x", use_threads=False)
        table = grouped.aggregate([("y", "sum")])
        for key, value in zip(table["x"].to_pylist(), table["y_sum"].to_pylist(), strict=True):
            self.sums[key] = self.sums.get(key, 0.0) + (value or 0.0)
        if len(self.sums) > MAX_CATEGORIES:
            self._prune()

    def _prune(self) -> None:
        """Keep the larger half: the top N shown are (nearly always) among them."""
        ranked = sorted(self.sums.items(), key=lambda item: abs(item[1]), reverse=True)
        keep = MAX_CATEGORIES // 2
        self.other += sum(value for _, value in ranked[keep:])
        self.sums = dict(ranked[:keep])

    def top(self, count: int) -> tuple[list[str], list[float]]:
        ranked = sorted(self.sums.items(), key=lambda item: item[1], reverse=True)
        shown = ranked if len(ranked) <= count else ranked[: count - 1]
        rest = self.other + sum(value for _, value in ranked[len(shown) :])
        labels = [label for label, _ in shown]
        values = [value for _, value in shown]
        if len(shown) < len(ranked) or self.other:
            labels.append("Other")
            values.append(rest)
        return labels, values


class _Series(_ChartData):
    """Sum of y per numeric/temporal x, re-binned coarser (doubling) to stay bounded."""

    def __init__(self, spec: ChartSpec, schema: pa.Schema, titles: Mapping[str, str]) -> None:
        super().__init__(spec, schema, titles)
        self.kind = schema.field(self.x).type
        self.width = 0.0  # 0: exact x values

    def add(self, batch: pa.RecordBatch) -> None:
        x, y = self._xy(batch)
        keys = self._bin(pc.cast(_as_number(x), pa.float64()))
        table = pa.table({"x": keys, "y": y}).filter(pc.is_valid(keys))
        table = table.group_by("x", use_threads=False).aggregate([("y", "sum")])
        for key, value in zip(table["x"].to_pylist(), table["y_sum"].to_pylist(), strict=True):
            self.sums[key] = self.sums.get(key, 0.0) + (value or 0.0)
        while len(self.sums) > MAX_POINTS:
            self._coarsen()

    def _bin(self, x: pa.Array) -> pa.Array:
        if not self.width:
            return x
        return pc.multiply(pc.floor(pc.divide(x, self.width)), self.width)

    def _coarsen(self) -> None:
        span = max(self.sums) - min(self.sums)
        self.width = self.width * 2 if self.width else span / (MAX_POINTS / 4) or 1.0
        merged: dict[float, float] = {}
        for key, value in self.sums.items():
            start = math.floor(key / self.width) * self.width
            merged[start] = merged.get(start, 0.0) + value
        self.sums = merged

    def points(self) -> tuple[list[Any], list[float]]:
        keys = sorted(self.sums)
        return [_from_number(key, self.kind) for key in keys], [self.sums[k] for k in keys]


def _chart_data(
    spec: ChartSpec | None, schema: pa.Schema, titles: Mapping[str, str]
) -> _ChartData | None:
    if spec is None or schema.get_field_index(spec.x) < 0:
        return None
    x_type = schema.field(spec.x).type
    if spec.type == "line" and (_is_number(x_type) or _is_temporal(x_type)):
        return _Series(spec, schema, titles)
    return _Categories(spec, schema, titles)


def _is_number(arrow_type: pa.DataType) -> bool:
    return bool(pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type))


def _is_temporal(arrow_type: pa.DataType) -> bool:
    return bool(pa.types.is_timestamp(arrow_type) or pa.types.is_date32(arrow_type))


def _as_number(x: pa.Array) -> pa.Array:
    """Timestamps as microseconds, dates as days: numbers that can be binned."""
    if pa.types.is_timestamp(x.type):
        return pc.cast(pc.cast(x, pa.timestamp("us", x.type.tz)), pa.int64())
    if pa.types.is_date32(x.type):
        return pc.cast(x, pa.int32())
    return x


def _from_number(value: float, kind: pa.DataType) -> Any:
    if pa.types.is_timestamp(kind):
        return datetime(1970, 1, 1) + timedelta(microseconds=value)
    if pa.types.is_date32(kind):
        return date(1970, 1, 1) + timedelta(days=value)
    return value


def _draw_chart(doc: FPDF, data: _ChartData, box: tuple[float, float, float, float]) -> None:
    x, y, width, height = box
    png = _render_chart(data, width / 25.4, height / 25.4)
    doc.image(png, x=x, y=y, w=width, h=height)


def _render_chart(data: _ChartData, width_in: float, height_in: float) -> io.BytesIO:
    """The chart as a 200-dpi PNG; matplotlib is imported here only (it is slow to load)."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with rc_context(_chart_style()):
        figure = Figure(figsize=(width_in, height_in), layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        _plot(axes, data)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=200)
    buffer.seek(0)
    return buffer


def _chart_style() -> dict[RcKeyType, Any]:
    families = ["DejaVu Sans"]
    if _register_cjk_for_matplotlib():
        families.append("Noto Sans CJK KR")
    return {
        "font.family": families,
        "font.size": 8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": "#8a94a0",
        "axes.titlesize": 10,
        "axes.titleweight": "normal",
        "axes.prop_cycle": _cycler(),
    }


def _cycler() -> Any:
    from cycler import cycler

    return cycler(color=list(CHART_COLORS))


@cache
def _register_cjk_for_matplotlib() -> bool:
    from matplotlib import font_manager

    path = _cjk_font()
    if path is None:
        return False
    font_manager.fontManager.addfont(str(path))
    return True


def _plot(axes: Any, data: _ChartData) -> None:
    spec = data.spec
    if isinstance(data, _Series):
        xs, ys = data.points()
        axes.plot(xs, ys, color=CHART_COLORS[0], linewidth=1.4, marker="o" if len(xs) < 40 else "")
        if xs and isinstance(xs[0], date):
            axes.figure.autofmt_xdate()
        axes.yaxis.set_major_formatter(_thousands())
    elif isinstance(data, _Categories) and spec.type == "pie":
        labels, values = data.top(TOP["pie"])
        _pie(axes, labels, values)
    elif isinstance(data, _Categories) and spec.type == "line":
        labels, values = list(data.sums), list(data.sums.values())
        axes.plot(labels, values, color=CHART_COLORS[0], linewidth=1.4)
    elif isinstance(data, _Categories):
        labels, values = data.top(TOP["bar"])
        _bars(axes, labels, values)
    axes.set_title(data.title, loc="left")
    if not data.sums:
        axes.text(0.5, 0.5, "No data", ha="center", va="center", transform=axes.transAxes)


def _bars(axes: Any, labels: list[str], values: list[float]) -> None:
    shown = [_short(label) for label in labels]
    colors = [OTHER_COLOR if label == "Other" else CHART_COLORS[0] for label in labels]
    axes.barh(shown[::-1], values[::-1], color=colors[::-1], height=0.65)
    axes.xaxis.set_major_formatter(_thousands())
    axes.grid(axis="x", color="#e3e7ec", linewidth=0.6)
    axes.set_axisbelow(True)


def _pie(axes: Any, labels: list[str], values: list[float]) -> None:
    positive = [(label, value) for label, value in zip(labels, values, strict=True) if value > 0]
    if not positive:
        axes.set_axis_off()
        return
    names, sizes = zip(*positive, strict=True)
    colors = [
        OTHER_COLOR if name == "Other" else CHART_COLORS[i % len(CHART_COLORS)]
        for i, name in enumerate(names)
    ]
    axes.pie(
        sizes,
        colors=colors,
        autopct="%1.0f%%",
        startangle=90,
        counterclock=False,
        wedgeprops={"linewidth": 1, "edgecolor": "white"},
        pctdistance=0.75,
    )
    axes.legend(
        [_short(n) for n in names], loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False
    )
    axes.set_aspect("equal")


def _short(label: str, limit: int = 32) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _thousands() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: f"{value:,.0f}" if abs(value) >= 100 else f"{value:g}")
