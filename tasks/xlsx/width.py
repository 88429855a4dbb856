"""How wide text is in spreadsheet columns: East Asian wide and fullwidth characters count 2, everything else 1."""

from __future__ import annotations

import math
import unicodedata
from functools import lru_cache

LINE_HEIGHT = 14.0  # points per line of 10-point 宋体, with its leading
PADDING = 2  # a column's room either side of its widest text


def char_width(ch: str) -> int:
    """2 for an East Asian wide (W) or fullwidth (F) character, else 1."""
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def line_widths(text: str) -> tuple[int, ...]:
    """The width of each line of `text`."""
    return _line_widths(str(text))


@lru_cache(maxsize=65536)
def _line_widths(text: str) -> tuple[int, ...]:
    # A published workbook measures some 25,000 cells, most of them numbers and names it has measured before.
    if text.isascii():
        return tuple(len(line) for line in text.split("\n"))
    return tuple(sum(char_width(ch) for ch in line) for line in text.split("\n"))


def text_width(text: str) -> int:
    """The width of the widest line of `text`, in columns."""
    return max(line_widths(text), default=0)


def lines_needed(text: str, width: float) -> int:
    """How many lines `text` takes when wrapped in a column `width` wide (its own line breaks included)."""
    room = max(1.0, width - PADDING)
    return sum(max(1, math.ceil(w / room)) for w in line_widths(text))


def row_height(lines: int) -> float:
    """The row height in points that shows `lines` lines of text without clipping."""
    return lines * LINE_HEIGHT + 5  # spreadsheets keep whole pixels (0.75 pt): never round below 4 pt of room
