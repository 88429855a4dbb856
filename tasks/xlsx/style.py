"""Conventions for each workbook we write: formula-safe text, Chinese fonts, formats by measure unit, A4 print setup."""

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

FONT = "宋体"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ESCAPE_MARK = "'"
NUM_FORMATS = {"count": "#,##0", "money": "#,##0." + "0" * MONEY_DECIMALS, "rate": '0.00"%"', "ratio": "0.0%"}
A4 = 9


def escape_text(text: str) -> str:
    """The one escaping rule: text a spreadsheet could run (= + - @ first) gets a leading apostrophe character.

    Every workbook we write stores text through `write_value` (write_string), so nothing is ever parsed as a
    formula; the visible apostrophe also keeps the cell inert when a user copies it into another sheet.
    """
    return ESCAPE_MARK + text if text.startswith(FORMULA_PREFIXES) else text


class Styles:
    """The formats of one workbook, created once."""

    def __init__(self, wb: Workbook) -> None:
        base = {"font_name": FONT, "font_size": 10, "border": 1, "valign": "vcenter"}
        self.title = wb.add_format({"font_name": FONT, "font_size": 14, "bold": True})
        self.subtitle = wb.add_format({"font_name": FONT, "font_size": 11, "bold": True})
        self.plain = wb.add_format({"font_name": FONT, "font_size": 10})
        self.header = wb.add_format({**base, "bold": True, "align": "center", "text_wrap": True, "bg_color": "#DDEBF7"})
        self.text = wb.add_format({**base, "text_wrap": True})
        self.center = wb.add_format({**base, "align": "center"})
        self.numbers = {kind: wb.add_format({**base, "num_format": f}) for kind, f in NUM_FORMATS.items()}
        self.flag = wb.add_format({**base, "bg_color": "#FCE4D6"})

    def measure(self, measure_unit: str) -> Format:
        """The number format for a measure unit (人/个/期/人次 whole, 亿元 four decimals, % as a rate)."""
        return self.numbers[MEASURE_KINDS[measure_unit]]


def write_value(ws: Worksheet, row: int, col: int, value: object, fmt: Format) -> None:
    """Write a value as a value: numbers as numbers, blanks as blanks, everything else as escaped text."""
    if value is None or value is pd.NaT or (isinstance(value, Real) and math.isnan(value)):
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, (bool, np.bool_)):
        ws.write_string(row, col, "是" if value else "否", fmt)
    elif isinstance(value, Real):
        ws.write_number(row, col, float(value), fmt)
    elif isinstance(value, dt.datetime):
        ws.write_string(row, col, value.strftime("%Y-%m-%d %H:%M"), fmt)
    elif isinstance(value, dt.date):
        ws.write_string(row, col, value.isoformat(), fmt)
    else:
        ws.write_string(row, col, escape_text(str(value)), fmt)


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


def print_setup(ws: Worksheet, header_row: int, freeze_col: int = 0, widths: Sequence[float] = ()) -> None:
    """A4 landscape, one page wide, rows up to the header repeated on every page, panes frozen below it."""
    ws.set_landscape()
    ws.set_paper(A4)
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.repeat_rows(0, header_row)
    ws.freeze_panes(header_row + 1, freeze_col)
    ws.set_footer("&C第 &P 页，共 &N 页")
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
