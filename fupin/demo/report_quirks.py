"""What real clerks do to a filled report: each quirk or rule violation as a function on the workbook."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from config import Config, Form
from tasks.report.marker import MARKER_SHEET
from tasks.report.templates import FIRST_DATA_ROW, HEADER_ROW

_FULL_WIDTH = str.maketrans("0123456789.,", "０１２３４５６７８９．，")
NOTE = "注:本表数据为年初至本月末累计数。"


def _value_cells(ws: Worksheet, cfg: Config, form: Form, kinds: set[str]):
    for offset, ind in enumerate(form.rows):
        if ind.kind in kinds:
            for c in range(5, 5 + len(cfg.columns(form))):
                yield ind, ws.cell(FIRST_DATA_ROW + offset, c)


def text_numbers(ws: Worksheet, cfg: Config, form: Form, on: bool) -> None:
    """Counts typed as text: thousands separators ('1,234') and stray spaces (' 56 ')."""
    for _, cell in _value_cells(ws, cfg, form, {"count"}):
        if isinstance(cell.value, (int, float)):
            n = int(cell.value)
            cell.value = f"{n:,}" if n >= 1000 else f" {n} "


def fullwidth(ws: Worksheet, cfg: Config, form: Form, on: bool) -> None:
    """Numbers typed with a Chinese input method: full-width digits ('１２３')."""
    for ind, cell in _value_cells(ws, cfg, form, {"count", "money"}):
        if isinstance(cell.value, (int, float)):
            text = str(int(cell.value)) if ind.kind == "count" else f"{cell.value:.4f}".rstrip("0").rstrip(".")
            cell.value = text.translate(_FULL_WIDTH)


def percent_fraction(ws: Worksheet, cfg: Config, form: Form, on: bool) -> None:
    """Rates stored as fractions (0.85) shown with a percent format."""
    for _, cell in _value_cells(ws, cfg, form, {"rate"}):
        if isinstance(cell.value, (int, float)):
            cell.value = round(cell.value / 100, 4)
            cell.number_format = "0.0%"


def formulas(ws: Worksheet, cfg: Config, form: Form, on: bool) -> None:
    """合计 as =SUM(...) of the region cells (openpyxl writes no cached value, like a file never opened in Excel)."""
    last = get_column_letter(4 + len(cfg.columns(form)))
    for offset, ind in enumerate(form.rows):
        if ind.kind != "rate" and form.by_region:
            r = FIRST_DATA_ROW + offset
            ws.cell(r, 5, f"=SUM(F{r}:{last}{r})")


def cells(ws: Worksheet, cfg: Config, form: Form, values: Mapping[tuple[int, str], Any]) -> None:
    """Put raw values into cells addressed by (row_no, column name or 'remark')."""
    names = [*cfg.columns(form), "remark"]
    for (row_no, column), value in values.items():
        ws.cell(FIRST_DATA_ROW + row_no - 1, 5 + names.index(column)).value = value


def indicator_text(ws: Worksheet, cfg: Config, form: Form, texts: Mapping[int, str]) -> None:
    """Retype an indicator's name (指标, column C)."""
    for row_no, text in texts.items():
        ws.cell(FIRST_DATA_ROW + row_no - 1, 3, text)


def row_numbers(ws: Worksheet, cfg: Config, form: Form, numbers: Mapping[int, Any]) -> None:
    """Retype the 序号 (column A) of rows: None deletes it, another number duplicates a row."""
    for row_no, value in numbers.items():
        ws.cell(FIRST_DATA_ROW + row_no - 1, 1).value = value


def note_rows(ws: Worksheet, cfg: Config, form: Form, on: bool) -> None:
    """Notes under the table and under the footer."""
    last = FIRST_DATA_ROW + len(form.rows)
    ws.cell(last, 1, NOTE)
    ws.cell(last + 3, 1, "联系人:张三  电话:010-12345678")


def month_text(ws: Worksheet, cfg: Config, form: Form, text: str) -> None:
    """What the clerk wrote on the 月份 line (row 3), e.g. after reusing last month's copy."""
    ws.cell(3, 1).value = text


def rename_sheet(ws: Worksheet, cfg: Config, form: Form, name: str) -> None:
    ws.title = name


def sent_on(ws: Worksheet, cfg: Config, form: Form, value: Any) -> None:
    """报送时间 as a date, or as text such as 2020年10月9日 / 2020.10.9, or None for blank."""
    ws.cell(FIRST_DATA_ROW + len(form.rows) + 1, 6).value = value


def unit_text(ws: Worksheet, cfg: Config, form: Form, text: str) -> None:
    """What the clerk wrote after 填报单位."""
    ws.cell(FIRST_DATA_ROW + len(form.rows) + 1, 2, text)


_SHEET_QUIRKS: dict[str, Callable[..., None]] = {
    f.__name__: f
    for f in (
        text_numbers,
        fullwidth,
        percent_fraction,
        formulas,
        cells,
        indicator_text,
        row_numbers,
        note_rows,
        sent_on,
        unit_text,
        month_text,
        rename_sheet,
    )
}


def apply(wb: Workbook, ws: Worksheet, cfg: Config, form: Form, quirks: Mapping[str, Any]) -> None:
    """Apply every named quirk, in a fixed order so results are reproducible."""
    unknown = set(quirks) - set(_SHEET_QUIRKS) - {"extra_sheet", "no_marker", "retyped"}
    if unknown:
        raise TypeError(f"unknown quirks: {sorted(unknown)}")
    for name, fn in _SHEET_QUIRKS.items():
        if name in quirks and quirks[name] is not None and quirks[name] is not False:
            fn(ws, cfg, form, quirks[name])
        elif name == "sent_on" and name in quirks:
            fn(ws, cfg, form, None)
    if quirks.get("extra_sheet"):
        intro = wb.create_sheet("填报说明", 0)
        intro["A1"] = "填报说明:请按月填报年初至本月末累计数。"
        intro["A2"] = "序号"
        wb.create_sheet("草稿")["B2"] = 12345
    if quirks.get("no_marker"):
        del wb[MARKER_SHEET]


def retype(wb: Workbook, ws: Worksheet, cfg: Config, form: Form) -> Workbook:
    """The table retyped by hand: no marker, no 大类, header on row 3 from column B, footer texts in one cell."""
    out = Workbook()
    new = out.active
    assert isinstance(new, Worksheet)  # a new workbook's one sheet
    new.title = "Sheet1"
    new["B1"] = f"{form.code} {form.title}"
    width = 4 + len(cfg.columns(form)) + (0 if form.by_region else 1)
    header = [ws.cell(HEADER_ROW, c).value for c in range(1, width + 1)]
    keep = [c for c in range(1, width + 1) if header[c - 1] != "大类"]
    for j, c in enumerate(keep, start=2):
        new.cell(3, j, header[c - 1])
        for offset in range(len(form.rows)):
            new.cell(4 + offset, j, ws.cell(FIRST_DATA_ROW + offset, c).value)
    footer = FIRST_DATA_ROW + len(form.rows) + 1
    new.cell(5 + len(form.rows), 2, f"填报单位：{ws.cell(footer, 2).value}")
    sent = ws.cell(footer, 6).value
    sent_text = f"{sent.year}年{sent.month}月{sent.day}日" if isinstance(sent, dt.date) else (sent or "")
    new.cell(5 + len(form.rows), 6, f"报送时间：{sent_text}")
    return out
