"""Word wrap for table cells, measured by any width function, cut after ``MAX_LINES``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from reportd.generation.formats.pdf.style import MAX_LINES

Measure = Callable[[str], float]


def wrap_text(value: str, room: float, measure: Measure) -> list[str]:
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


def _wrap_paragraph(paragraph: str, room: float, measure: Measure) -> Iterator[str]:
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


def _longest_prefix(value: str, room: float, measure: Measure) -> int:
    low, high = 1, len(value)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(value[:middle]) <= room:
            low = middle
        else:
            high = middle - 1
    return low


def _ellipsize(line: str, room: float, measure: Measure) -> str:
    while line and measure(line + "…") > room:
        line = line[:-1]
    return line.rstrip() + "…"
