"""Conventions for each workbook we write: formula-safe text, Chinese fonts, formats by measure unit, A4 print setup,
and columns and rows fitted to the text they hold (tasks/xlsx/width.py's rule)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from numbers import Real

import numpy as np
import pandas as pd
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from config.model import MEASURE_KINDS, MONEY_DECIMALS
from tasks.xlsx.width import PADDING, lines_needed, row_height, text_width

FONT = "宋体"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ESCAPE_MARK = "'"
NUM_FORMATS = {"count": "#,##0", "money": "#,##0." + "0" * MONEY_DECIMALS, "rate": '0.0"%"', "ratio": "0.0%"}
# How each number format shows a value, to measure it as the reader will see it.
_SHOWN = {
    NUM_FORMATS["count"]: lambda v: f"{v:,.0f}",
    NUM_FORMATS["money"]: lambda v: f"{v:,.{MONEY_DECIMALS}f}",
    NUM_FORMATS["rate"]: lambda v: f"{v:.1f}%",
    NUM_FORMATS["ratio"]: lambda v: f"{100 * v:.1f}%",
}
A4 = 9
MAX_WIDTH = 44  # wider text wraps instead of widening its column


def escape_text(text: str) -> str:
    """The one escaping rule: text a spreadsheet could run (= + - @ first) gets a leading apostrophe character.

    Every workbook we write stores text through `write_value` (write_string), so nothing is ever parsed as a
    formula; the visible apostrophe also keeps the cell inert when a user copies it into another sheet.
    """
    return ESCAPE_MARK + text if text.startswith(FORMULA_PREFIXES) else text


class FittedSheet(Worksheet):
    """A worksheet that remembers the text it shows, so its columns and rows can be fitted once it is written."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[tuple[int, int, str, bool]] = []  # row, column, text as shown, wraps
        self.banners: list[tuple[int, str, Format]] = []  # full-width lines (titles, notes) merged when fitted


def add_sheet(wb: Workbook, name: str) -> FittedSheet:
    """A new FittedSheet named `name`."""
    ws = wb.add_worksheet(name, worksheet_class=FittedSheet)
    assert isinstance(ws, FittedSheet)
    return ws


class Styles:
    """The formats of one workbook, created once."""

    def __init__(self, wb: Workbook) -> None:
        base = {"font_name": FONT, "font_size": 10, "border": 1, "valign": "vcenter"}
        lines = {"font_name": FONT, "bold": True, "valign": "vcenter", "text_wrap": True}
        self.title = wb.add_format({**lines, "font_size": 14})
        self.subtitle = wb.add_format({**lines, "font_size": 11})
        self.plain = wb.add_format({"font_name": FONT, "font_size": 10, "text_wrap": True, "valign": "top"})
        self.header = wb.add_format({**base, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#DDEBF7"})
        self.text = wb.add_format({**base, "text_wrap": True})
        self.center = wb.add_format({**base, "align": "center"})
        self.numbers = {kind: wb.add_format({**base, "num_format": f}) for kind, f in NUM_FORMATS.items()}
        self.flag = wb.add_format({**base, "bg_color": "#FCE4D6", "text_wrap": True})
        self.link = wb.add_format({**base, "font_color": "#0563C1", "underline": 1})

    def measure(self, measure_unit: str) -> Format:
        """The number format for a measure unit (人/个/期/人次 whole, 亿元 four decimals, % one decimal)."""
        return self.numbers[MEASURE_KINDS[measure_unit]]


def shown_text(value: object, fmt: Format | None) -> str:
    """`value` as the reader sees it in a cell of format `fmt` (numbers through the format's pattern)."""
    if value is None or value is pd.NaT or (isinstance(value, Real) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "是" if value else "否"
    if isinstance(value, Real):
        show = _SHOWN.get(getattr(fmt, "num_format", ""))
        return show(float(value)) if show else f"{float(value):g}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return escape_text(str(value))


def write_value(ws: Worksheet, row: int, col: int, value: object, fmt: Format) -> None:
    """Write a value as a value: numbers as numbers, blanks as blanks, everything else as escaped text."""
    if isinstance(ws, FittedSheet):
        ws.shown.append((row, col, shown_text(value, fmt), bool(getattr(fmt, "text_wrap", False))))
    if value is None or value is pd.NaT or (isinstance(value, Real) and math.isnan(value)):
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, (bool, np.bool_)):
        ws.write_string(row, col, "是" if value else "否", fmt)
    elif isinstance(value, Real):
        ws.write_number(row, col, float(value), fmt)
    else:
        ws.write_string(row, col, shown_text(value, fmt), fmt)


def write_link(ws: Worksheet, row: int, col: int, target: str, text: str, fmt: Format) -> None:
    """A hyperlink cell showing `text` (an internal target reads "internal:'Sheet'!A1")."""
    if isinstance(ws, FittedSheet):
        ws.shown.append((row, col, text, bool(getattr(fmt, "text_wrap", False))))
    ws.write_url(row, col, target, fmt, string=text)


def banner(ws: FittedSheet, row: int, text: str, fmt: Format) -> None:
    """A line across the whole table (title, note), merged over its columns and wrapped when it is fitted."""
    ws.banners.append((row, text, fmt))


def write_table(
    ws: Worksheet,
    styles: Styles,
    top: int,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    formats: Sequence[Format] | None = None,
) -> int:
    """A header row then data rows from row `top`; returns the first free row after the table."""
    for c, h in enumerate(headers):
        write_value(ws, top, c, h, styles.header)
    r = top
    for r, row in enumerate(rows, start=top + 1):
        for c, value in enumerate(row):
            write_value(ws, r, c, value, formats[c] if formats else styles.text)
    return r + 1


def fit(ws: FittedSheet, minimum: Sequence[float] = (), maximum: float = MAX_WIDTH) -> list[float]:
    """Each column as wide as its widest text (headers wrap to their widest word-line; long text wraps at `maximum`),
    rows as tall as their wrapped text, banners merged across the table; returns the widths."""
    n = max((c for _, c, _, _ in ws.shown), default=0) + 1
    widths = [float(minimum[c]) if c < len(minimum) else 4.0 for c in range(n)]
    for _, c, text, wraps in ws.shown:
        need = text_width(text) + PADDING
        widths[c] = max(widths[c], min(need, maximum) if wraps else need)
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    lines: dict[int, int] = {}
    for r, c, text, wraps in ws.shown:
        k = lines_needed(text, widths[c]) if wraps else text.count("\n") + 1
        lines[r] = max(lines.get(r, 1), k)
    total = sum(widths)
    for r, text, fmt in ws.banners:
        if n > 1:
            ws.merge_range(r, 0, r, n - 1, text, fmt)
        else:
            ws.write_string(r, 0, text, fmt)
        size = (getattr(fmt, "font_size", 10) or 10) / 10
        lines[r] = max(lines.get(r, 1), lines_needed(text, total / size))
        if lines[r] > 1 or size > 1:
            ws.set_row(r, row_height(lines[r]) * size)
    banner_rows = {r for r, _, _ in ws.banners}
    for r, k in lines.items():
        if k > 1 and r not in banner_rows:
            ws.set_row(r, row_height(k))
    return widths


def print_setup(
    ws: Worksheet,
    header_row: int,
    freeze_col: int = 0,
    widths: Sequence[float] = (),
    repeat: tuple[int, int] | None = None,
    freeze: bool = True,
    maximum: float = MAX_WIDTH,
) -> None:
    """A4 landscape, one page wide, rows up to the header (or `repeat`) repeated on every page, panes frozen below
    the header; a FittedSheet's columns fitted to its text (`widths` as the least width of each column)."""
    ws.set_landscape()
    ws.set_paper(A4)
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.repeat_rows(*(repeat or (0, header_row)))
    if freeze:
        ws.freeze_panes(header_row + 1, freeze_col)
    ws.set_footer("&C第 &P 页，共 &N 页")
    if isinstance(ws, FittedSheet):
        fit(ws, widths, maximum)
    else:
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
