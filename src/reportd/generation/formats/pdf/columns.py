"""Which columns the table shows and how wide: measured on the header and the first batch.

The page turns landscape when the natural widths need more than a portrait page (unless
``pdf.landscape`` says otherwise); then the widths are scaled to fill the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from reportd.domain.models import PdfLayout
from reportd.generation.formats.base import WriteContext
from reportd.generation.formats.display import ColumnDisplay
from reportd.generation.formats.pdf.style import BODY_PT, MAX_COL_W, MIN_COL_W, SMALL_BODY_PT

if TYPE_CHECKING:
    from reportd.generation.formats.pdf.document import Document

SAMPLE_ROWS = 200


@dataclass(frozen=True, slots=True)
class Column:
    index: int
    title: str
    width: float
    align: str


def measure_columns(
    schema: pa.Schema,
    context: WriteContext,
    layout: PdfLayout,
    sample: pa.RecordBatch | None,
    doc: Document,
    displays: Sequence[ColumnDisplay],
) -> list[Column]:
    """The shown columns (``pdf.columns`` or all) at their natural widths."""
    titles = {f.name: f.title for f in context.fields}
    names = [n for n in layout.columns if n in schema.names] or list(schema.names)
    result = []
    for name in names:
        index = schema.get_field_index(name)
        title = titles.get(name, name)
        shown = displays[index]
        values = _sample_texts(sample, index, shown)
        width = _natural_width(doc, title, values)
        alignment = "R" if shown.numeric else align(schema.field(index).type)
        result.append(Column(index, title, width, alignment))
    return result


def _sample_texts(sample: pa.RecordBatch | None, index: int, shown: ColumnDisplay) -> list[str]:
    if sample is None:
        return []
    return [v for v in shown.texts(sample.column(index).slice(0, SAMPLE_ROWS)).to_pylist() if v]


def _natural_width(doc: Document, title: str, values: Sequence[str]) -> float:
    """Fits the header and nine values in ten of the sample, within sane bounds."""
    doc.set_font("body", "B", BODY_PT)
    header = doc.get_string_width(title) + 2 * doc.c_margin
    doc.set_font("body", "", BODY_PT)
    values = [doc.printable(value) for value in values]
    widths = sorted(doc.get_string_width(v) for v in values)
    body = widths[int(len(widths) * 0.9)] + 2 * doc.c_margin + 1 if widths else 0.0
    return min(MAX_COL_W, max(MIN_COL_W, header, body))


def align(arrow_type: pa.DataType) -> str:
    """Numbers to the right, booleans centred, the rest to the left."""
    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type):
        return "R"
    return "C" if pa.types.is_boolean(arrow_type) else "L"


def fit_widths(shown: list[Column], room: float) -> tuple[list[Column], float]:
    """Scale the widths to fill the page; a smaller type when they are squeezed hard."""
    natural = sum(c.width for c in shown) or 1.0
    scale = room / natural
    size = BODY_PT if scale >= 0.75 else SMALL_BODY_PT
    fitted = [Column(c.index, c.title, c.width * scale, c.align) for c in shown]
    return fitted, size
