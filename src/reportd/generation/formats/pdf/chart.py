"""Drawing the chart into the room page 1 kept for it, as a 200-dpi PNG.

matplotlib (Agg) renders it and is imported here only, inside the functions: it is slow to load.
Its labels fall back through the PDF's own fonts (DejaVu Sans, Noto Sans CJK, Symbola), and a
character none of them has is shown as the document's mark (``Document.printable``), not as a
box. matplotlib (3.10 and later) lays right-to-left labels out itself, through libraqm.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any

from reportd.generation.formats.pdf.chart_data import Categories, ChartData, Series
from reportd.generation.formats.pdf.fonts import cjk_font, emoji_font
from reportd.generation.formats.pdf.style import CHART_COLORS, OTHER_COLOR

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

    from reportd.generation.formats.pdf.document import Document

TOP = {"bar": 12, "pie": 7}  # categories shown; the rest are summed as "Other"


Clean = Callable[[str], str]
Ticks = Callable[[float], str]


def draw_chart(
    doc: Document,
    data: ChartData,
    box: tuple[float, float, float, float],
    ticks: Ticks | None = None,
) -> None:
    """The chart in ``box``; ``ticks`` draws the value axis (the y field's display format)."""
    x, y, width, height = box
    png = _render_chart(data, width / 25.4, height / 25.4, doc.printable, ticks)
    doc.image(png, x=x, y=y, w=width, h=height)


def _render_chart(
    data: ChartData, width_in: float, height_in: float, clean: Clean, ticks: Ticks | None
) -> io.BytesIO:
    """The chart as a 200-dpi PNG; matplotlib is imported here only (it is slow to load)."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with rc_context(_chart_style()):
        figure = Figure(figsize=(width_in, height_in), layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        _plot(axes, data, clean, ticks)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=200)
    buffer.seek(0)
    return buffer


def _chart_style() -> dict[RcKeyType, Any]:
    families = ["DejaVu Sans"]
    if _register_cjk_for_matplotlib():
        families.append("Noto Sans CJK KR")
    if _register_emoji_for_matplotlib():
        families.append("Symbola")
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

    path = cjk_font()
    if path is None:
        return False
    font_manager.fontManager.addfont(str(path))
    return True


@cache
def _register_emoji_for_matplotlib() -> bool:
    from matplotlib import font_manager

    path = emoji_font()
    if path is None:
        return False
    font_manager.fontManager.addfont(str(path))
    return True


def _plot(axes: Any, data: ChartData, clean: Clean, ticks: Ticks | None) -> None:
    spec = data.spec
    if isinstance(data, Series):
        xs, ys = data.points()
        axes.plot(xs, ys, color=CHART_COLORS[0], linewidth=1.4, marker="o" if len(xs) < 40 else "")
        if xs and isinstance(xs[0], date):
            axes.figure.autofmt_xdate()
        axes.yaxis.set_major_formatter(_thousands(ticks))
    elif isinstance(data, Categories) and spec.type == "pie":
        labels, values = data.top(TOP["pie"])
        _pie(axes, [clean(label) for label in labels], values)
    elif isinstance(data, Categories) and spec.type == "line":
        labels, values = [clean(str(label)) for label in data.sums], list(data.sums.values())
        axes.plot(labels, values, color=CHART_COLORS[0], linewidth=1.4)
    elif isinstance(data, Categories):
        labels, values = data.top(TOP["bar"])
        _bars(axes, [clean(label) for label in labels], values, ticks)
    axes.set_title(clean(data.title), loc="left")
    if not data.sums:
        axes.text(0.5, 0.5, "No data", ha="center", va="center", transform=axes.transAxes)


def _bars(axes: Any, labels: list[str], values: list[float], ticks: Ticks | None) -> None:
    shown = [_short(label) for label in labels]
    colors = [OTHER_COLOR if label == "Other" else CHART_COLORS[0] for label in labels]
    axes.barh(shown[::-1], values[::-1], color=colors[::-1], height=0.65)
    axes.xaxis.set_major_formatter(_thousands(ticks))
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


def _thousands(ticks: Ticks | None = None) -> Any:
    from matplotlib.ticker import FuncFormatter

    if ticks is not None:
        return FuncFormatter(lambda value, _: ticks(value))
    return FuncFormatter(lambda value, _: f"{value:,.0f}" if abs(value) >= 100 else f"{value:g}")
