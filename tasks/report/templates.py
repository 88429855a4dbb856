"""Blank report templates in the office's own layout, generated from the form declared in config/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from config import Config, Form, Indicator, Unit
from config.layout import LAYOUT
from tasks.report.marker import MARKER_SHEET, Marker

HEADER_ROW = LAYOUT.header_row
FIRST_DATA_ROW = LAYOUT.first_data_row
FIRST_VALUE_COLUMN = LAYOUT.first_value_column
FONT = "宋体"
NUMBER_FORMATS = {"count": "#,##0", "money": "#,##0.0000", "rate": '0.00"%"'}
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_INPUT_FILL = PatternFill("solid", fgColor="FFF9E5")


def template_name(unit: Unit, month: str) -> str:
    """A file name that sorts by month and says whose form it is."""
    safe = re.sub(r"[\\/:*?\"<>|\s]+", "_", unit.name)
    return f"{month}_{unit.form_code}_{safe}.xlsx"


def header_texts(cfg: Config, form: Form) -> list[str]:
    """The header row of a form: 序号 大类 指标 单位, its value columns, and 备注 where the form has no regions."""
    return [*LAYOUT.lead_columns, *cfg.columns(form), *([] if form.by_region else [LAYOUT.remark])]


def _validation(kind: str) -> DataValidation:
    common: dict[str, Any] = {"allow_blank": True, "showErrorMessage": True, "errorTitle": "输入有误 / Invalid entry"}
    if kind == "count":
        return DataValidation(
            type="whole",
            operator="greaterThanOrEqual",
            formula1="0",
            error="请填写非负整数 / a non-negative whole number",
            **common,
        )
    if kind == "money":
        return DataValidation(
            type="decimal",
            operator="greaterThanOrEqual",
            formula1="0",
            error="请填写非负数(亿元,最多4位小数) / non-negative, in 亿元",
            **common,
        )
    return DataValidation(
        type="decimal",
        operator="between",
        formula1="0",
        formula2="100",
        error="请填写0到100之间的数(百分比) / a percentage from 0 to 100",
        **common,
    )


def _write_rows(ws: Worksheet, cfg: Config, form: Form, width: int) -> None:
    value_cols = range(FIRST_VALUE_COLUMN, FIRST_VALUE_COLUMN + len(cfg.columns(form)))
    validations = {kind: _validation(kind) for kind in NUMBER_FORMATS}
    for dv in validations.values():
        ws.add_data_validation(dv)
    for offset, ind in enumerate(form.rows):
        r = FIRST_DATA_ROW + offset
        for c, v in enumerate((ind.row_no, ind.category, ind.indicator, ind.measure_unit), start=1):
            ws.cell(r, c, v)
        for c in value_cols:
            cell = ws.cell(r, c)
            cell.number_format = NUMBER_FORMATS[ind.kind]
            cell.protection = Protection(locked=False)
            cell.fill = _INPUT_FILL
            validations[ind.kind].add(cell.coordinate)
        if not form.by_region:
            remark = ws.cell(r, width)
            remark.protection = Protection(locked=False)
            remark.fill = _INPUT_FILL
        for c in range(1, width + 1):
            ws.cell(r, c).border = _BOX
            ws.cell(r, c).font = Font(name=FONT, size=10)
            ws.cell(r, c).alignment = Alignment(
                vertical="center", wrap_text=c in (2, 3), horizontal="center" if c in (1, 4) else None
            )
    _merge_categories(ws, form.rows)


def _merge_categories(ws: Worksheet, rows: tuple[Indicator, ...]) -> None:
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i].category != rows[start].category:
            if i - start > 1:
                ws.merge_cells(
                    start_row=FIRST_DATA_ROW + start, end_row=FIRST_DATA_ROW + i - 1, start_column=2, end_column=2
                )
            start = i


def _layout(ws: Worksheet, cfg: Config, form: Form, width: int, footer: int) -> None:
    last = get_column_letter(width)
    for c, w in enumerate([6, 14, 36, 7] + [11] * (width - 4), start=1):
        ws.column_dimensions[get_column_letter(c)].width = w
    if not form.by_region:
        ws.column_dimensions[last].width = 30
    ws.freeze_panes = ws.cell(FIRST_DATA_ROW, FIRST_VALUE_COLUMN).coordinate
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_area = f"A1:{last}{footer}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


def build_template(cfg: Config, unit: Unit, month: str) -> Workbook:
    """The workbook a unit fills for a month: its form, its name, and the hidden marker."""
    form = cfg.form(unit.form_code)
    headers = header_texts(cfg, form)
    width = len(headers)
    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new Workbook always starts with one worksheet
    ws.title = form.code
    ws["A1"] = cfg.report_title
    ws["A2"] = f"{form.code}\u3000{form.title}"
    ws.cell(LAYOUT.month_row, 1, LAYOUT.month_text(month))
    for r, size in ((1, 16), (2, 13), (3, 11)):
        ws.merge_cells(start_row=r, end_row=r, start_column=1, end_column=width)
        ws.cell(r, 1).font = Font(name=FONT, size=size, bold=r < 3)
        ws.cell(r, 1).alignment = Alignment(horizontal="center" if r < 3 else "left")
    for c, text in enumerate(headers, start=1):
        cell = ws.cell(HEADER_ROW, c, text)
        cell.font = Font(name=FONT, size=10, bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BOX
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    _write_rows(ws, cfg, form, width)
    footer = FIRST_DATA_ROW + len(form.rows) + 1
    ws.cell(footer, 1, f"{LAYOUT.unit_label}:")
    ws.cell(footer, 2, unit.name)
    ws.merge_cells(start_row=footer, end_row=footer, start_column=2, end_column=4)
    ws.cell(footer, 5, f"{LAYOUT.sent_label}:")
    sent = ws.cell(footer, 6)
    sent.protection = Protection(locked=False)
    sent.fill = _INPUT_FILL
    sent.number_format = "yyyy-mm-dd"
    for c in range(1, 7):
        ws.cell(footer, c).font = Font(name=FONT, size=11, bold=c in (1, 5))
    _layout(ws, cfg, form, width, footer)
    marker = wb.create_sheet(MARKER_SHEET)
    for key, value in Marker(form.code, unit.code, month, cfg.template_version).rows():
        marker.append([key, value])
    marker.sheet_state = "veryHidden"
    return wb


def write_template(cfg: Config, unit: Unit, month: str, out_dir: Path) -> Path:
    """Write `unit`'s blank template for `month` into `out_dir` and return its path."""
    path = Path(out_dir) / template_name(unit, month)
    build_template(cfg, unit, month).save(path)
    return path
