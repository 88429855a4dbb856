"""The unit's own workbook handed back: each failing cell filled red with its reasons, and a problem list first whose
cell addresses link to the cells, printable one page wide."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from contracts.messages import Issue
from tasks.intake.safety import check_file
from tasks.xlsx.width import PADDING, lines_needed, row_height, text_width

ISSUES_SHEET = "问题清单"
HEADERS = ("工作表\nsheet", "单元格\ncell", "序号", "指标", "列\ncolumn", "填写值\nvalue", "问题", "problem")
HEADER_ROW = 2
MAX_WIDTH = 36  # longer text wraps; with these columns the list prints one page wide on A4 landscape
_BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_EDGE = Side(style="thin", color="808080")
_BOX = Border(left=_EDGE, right=_EDGE, top=_EDGE, bottom=_EDGE)
_WRAP = Alignment(wrap_text=True, vertical="center")
_FONT = "宋体"
_TEXT = Font(name=_FONT, size=10)
_BOLD = Font(name=_FONT, size=10, bold=True)
_LINK = Font(name=_FONT, size=10, color="0563C1", underline="single")


def _own_workbook(data: bytes, suffix: str) -> Workbook:
    """The unit's workbook to annotate; a blank one (the list sheet only) when its bytes are unsafe or unreadable."""
    if suffix.lower() not in (".xlsx", ".xlsm"):
        return Workbook()
    try:
        check_file(data, suffix)
        return load_workbook(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - a file we could not read is still quarantined, with its problem list
        return Workbook()


def _write_list(ws: Worksheet, issues: Sequence[Issue], sheets: Sequence[str]) -> None:
    """Title, bilingual header and one row per issue; the cell address links to the cell when its sheet exists."""
    ws.append(
        [f"共 {len(issues)} 个问题 / {len(issues)} problem(s)：点击单元格地址可跳到该单元格 / click a cell to go there"]
    )
    ws.append(list(HEADERS))
    for i in issues:
        ws.append([i.sheet, i.cell, i.row_no, i.indicator, i.region, i.value, i.message_zh, i.message_en])
        for cell in ws[ws.max_row]:
            cell.border, cell.alignment, cell.font = _BOX, _WRAP, _TEXT
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # a clerk's "=cmd|..." text must come back as text, never as a formula
        if i.sheet in sheets and i.cell:
            link = ws.cell(ws.max_row, 2)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{i.sheet}'!{i.cell}", display=i.cell)
            link.font = _LINK
    for cell in ws[HEADER_ROW]:
        cell.font, cell.fill, cell.border = _BOLD, _HEAD_FILL, _BOX
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")


def _fit(ws: Worksheet) -> None:
    """Columns as wide as their text (CJK counted double) up to MAX_WIDTH, rows as tall as their wrapped text."""
    n = len(HEADERS)
    widths = [4.0] * n
    for row in ws.iter_rows(min_row=HEADER_ROW):
        for c, cell in enumerate(row[:n]):
            if cell.value is not None:
                widths[c] = max(widths[c], min(text_width(str(cell.value)) + PADDING, MAX_WIDTH))
    for c, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = w
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n)
    ws["A1"].alignment = Alignment(wrap_text=True, vertical="center")
    ws["A1"].font = _BOLD
    ws.row_dimensions[1].height = row_height(lines_needed(str(ws["A1"].value), sum(widths)))
    for row in ws.iter_rows(min_row=HEADER_ROW):
        shown = [(str(c.value), widths[i]) for i, c in enumerate(row[:n]) if c.value is not None]
        lines = max((lines_needed(text, width) for text, width in shown), default=1)
        ws.row_dimensions[int(row[0].row or 1)].height = row_height(lines)


def _print_setup(ws: Worksheet) -> None:
    """A4 landscape, one page wide, title and header repeated, header frozen, page x of y."""
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = f"1:{HEADER_ROW}"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    footer = ws.oddFooter
    assert footer is not None  # openpyxl gives every sheet its (empty) footer
    footer.center.text = "第 &P 页，共 &N 页"


def highlight(data: bytes, suffix: str, issues: Sequence[Issue]) -> bytes:
    """The unit's own workbook with each failing cell filled red and the reasons in its comment, plus a list sheet."""
    wb = _own_workbook(data, suffix)
    by_cell: dict[tuple[str, str], list[Issue]] = {}
    for issue in issues:
        if issue.sheet is not None and issue.sheet in wb.sheetnames and issue.cell:
            by_cell.setdefault((issue.sheet, issue.cell), []).append(issue)
    for (sheet, ref), found in by_cell.items():
        cell = wb[sheet][ref]
        cell.fill = _BAD_FILL
        text = "\n".join(f"{i.message_zh}\n{i.message_en}" for i in found)
        cell.comment = Comment(text, "北京市扶贫支援办", width=320, height=40 + 40 * len(found))
    sheets = list(wb.sheetnames)
    ws = wb.create_sheet(ISSUES_SHEET, 0)
    _write_list(ws, issues, sheets)
    _fit(ws)
    _print_setup(ws)
    wb.active = 0
    for other in wb.worksheets[1:]:
        other.sheet_view.tabSelected = False
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
