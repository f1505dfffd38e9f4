"""The fonts: where their files are, and the advance width of each glyph.

DejaVu Sans comes from matplotlib's own wheel (Latin, Greek, Cyrillic; always installed with
matplotlib); Noto Sans CJK KR from the ``noto-cjk-sans-otc`` wheel is the fallback for Hangul
and Han. Both are subset-embedded.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from fpdf import FPDF
from fpdf.fonts import TTFFont

if TYPE_CHECKING:
    from reportd.generation.formats.pdf.document import Document

CJK_FACE = 1  # "Noto Sans CJK KR" in the collection: Korean glyph forms for Han too

_DEBIAN_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def ttf(doc: FPDF, key: str) -> TTFFont:
    """The TrueType font added under ``key`` (fpdf2 types its font table loosely)."""
    font = doc.fonts[key]
    if not isinstance(font, TTFFont):
        raise TypeError(f"font {key!r} is not a TrueType/OpenType font")
    return font


@cache
def dejavu() -> tuple[Path, Path]:
    """DejaVu Sans as matplotlib ships it; found without importing matplotlib (slow)."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the PDF format needs matplotlib: pip install matplotlib")
    ttf_dir = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
    return ttf_dir / "DejaVuSans.ttf", ttf_dir / "DejaVuSans-Bold.ttf"


@cache
def cjk_font() -> Path | None:
    """Noto Sans CJK from its wheel (a dependency), else Debian's fonts-noto-cjk, else none."""
    try:
        path = Path(str(resources.files("noto_cjk_sans_otc") / "NotoSansCJK-Regular.ttc"))
    except ModuleNotFoundError:
        path = _DEBIAN_CJK
    return path if path.is_file() else None


class Widths(dict[str, float]):
    """Advance width (mm) of each character at the body size, looked up on first sight."""

    def __init__(self, doc: Document, size: float) -> None:
        super().__init__()
        self.doc = doc
        self.scale = size * 0.001 / doc.k
        self.plain: set[str] = set()  # characters DejaVu draws (``text()`` may be used)

    def __missing__(self, char: str) -> float:
        code = ord(char)
        font = ttf(self.doc, "body")
        if code in font.cmap:
            self.plain.add(char)
        else:
            font = self.doc.load_cjk() or font
        width: float = font.cw[code] * self.scale
        self[char] = width
        return width

    def of(self, value: str) -> float:
        return sum(map(self.__getitem__, value))
