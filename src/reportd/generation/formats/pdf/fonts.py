"""The fonts: where their files are, and the advance width of each glyph.

DejaVu Sans comes from matplotlib's own wheel (Latin, Greek, Cyrillic, Arabic, Hebrew; always
installed with matplotlib); Noto Sans CJK KR from the ``noto-cjk-sans-otc`` wheel is the
fallback for Hangul and Han; Symbola from Debian's ``fonts-symbola`` (monochrome, Unicode 9
emoji and symbols; no wheel ships a monochrome emoji font) is the last fallback, for emoji.
All are subset-embedded. A colour emoji font (Noto Color Emoji) is bitmaps: ten times the
size in every PDF, and not drawn by every viewer.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Protocol

from fpdf import FPDF
from fpdf.fonts import TTFFont

CJK_FACE = 1  # "Noto Sans CJK KR" in the collection: Korean glyph forms for Han too

_DEBIAN_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
_DEBIAN_EMOJI = (
    Path("/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf"),  # fonts-symbola
    Path("/usr/share/fonts/truetype/symbola/Symbola.ttf"),
)
# Hebrew to Arabic Extended-A, and their presentation forms: shaped, never drawn as is.
_RIGHT_TO_LEFT = ((0x0590, 0x08FF), (0xFB1D, 0xFDFF), (0xFE70, 0xFEFC))
RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
# Blocks whose characters are emoji or pictographs more often than CJK punctuation.
_EMOJI_BLOCKS = ((0x2190, 0x21FF), (0x2300, 0x2BFF), (0x1F000, 0x1FAFF))


def ttf(doc: FPDF | FallbackFonts, key: str) -> TTFFont:
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


@cache
def emoji_font() -> Path | None:
    """Symbola from Debian's fonts-symbola, else none (emoji then show as a mark)."""
    return next((path for path in _DEBIAN_EMOJI if path.is_file()), None)


def looks_like_emoji(char: str) -> bool:
    """Whether to try the emoji font before the CJK one (it is smaller to load)."""
    code = ord(char)
    return any(low <= code <= high for low, high in _EMOJI_BLOCKS)


@cache
def shaping_available() -> bool:
    """uharfbuzz (a dependency) is importable: fpdf2 shapes right-to-left text with it."""
    return importlib.util.find_spec("uharfbuzz") is not None


class FallbackFonts(Protocol):
    """What ``Widths`` needs of a page: its fonts and the fallback for a character.

    A protocol, so this module needs nothing of ``document``, which imports it (the
    ``Document`` is the one implementation).
    """

    @property
    def fonts(self) -> Mapping[str, object]: ...

    @property
    def k(self) -> float: ...

    def font_for(self, char: str) -> TTFFont: ...


class Widths(dict[str, float]):
    """Advance width (mm) of each character at the body size, looked up on first sight."""

    def __init__(self, doc: FallbackFonts, size: float) -> None:
        super().__init__()
        self.doc = doc
        self.scale = size * 0.001 / doc.k
        self.plain: set[str] = set()  # characters DejaVu draws (``text()`` may be used)

    def __missing__(self, char: str) -> float:
        code = ord(char)
        font = ttf(self.doc, "body")
        if code in font.cmap:
            if not any(low <= code <= high for low, high in _RIGHT_TO_LEFT):
                self.plain.add(char)  # right-to-left text must be shaped: cell(), not text()
        else:
            font = self.doc.font_for(char)
        width: float = font.cw[code] * self.scale
        self[char] = width
        return width

    def of(self, value: str) -> float:
        return sum(map(self.__getitem__, value))
