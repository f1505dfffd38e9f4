"""The PDF's look in one place: page geometry, type sizes and colours."""

from __future__ import annotations

MARGIN = 12.0
BOTTOM = 15.0
LINE_H = 3.6  # mm per text line in the table
PAD_Y = 0.9
BODY_PT = 7.5
SMALL_BODY_PT = 6.5
MAX_LINES = 3  # longer cell text is cut with an ellipsis after this many lines
MIN_COL_W, MAX_COL_W = 12.0, 70.0
CHART_H = {"P": 72.0, "L": 62.0}
CLOSING_ROOM = 30.0  # mm the last page allowed by pdf.max_pages keeps for totals and the note

DARK = (38, 50, 66)
MUTED = (110, 120, 132)
INK = (30, 33, 38)
ZEBRA = (241, 244, 248)
TOTALS_FILL = (226, 232, 240)
RULE = (200, 206, 214)
WHITE = (255, 255, 255)
OTHER_COLOR = "#b4bcc6"
CHART_COLORS = ("#3b6ea8", "#e08a3c", "#4e9a6a", "#c24d4d", "#8065a8", "#8c6d52", "#cc6fae")
