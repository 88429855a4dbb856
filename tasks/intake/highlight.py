"""The unit's own workbook handed back: each failing cell filled red with its reasons, and a list sheet first."""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill

from contracts.messages import Issue
from tasks.intake.safety import check_file

ISSUES_SHEET = "问题清单"
_BAD_FILL = PatternFill("solid", fgColor="FFC7CE")


def _own_workbook(data: bytes, suffix: str) -> Workbook:
    """The unit's workbook to annotate; a blank one (the list sheet only) when its bytes are unsafe or unreadable."""
    if suffix.lower() not in (".xlsx", ".xlsm"):
        return Workbook()
    try:
        check_file(data, suffix)
        return load_workbook(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - a file we could not read is still quarantined, with its problem list
        return Workbook()


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
    ws = wb.create_sheet(ISSUES_SHEET, 0)
    ws.append(["工作表 sheet", "单元格 cell", "序号", "指标", "列 column", "填写值 value", "问题", "problem"])
    for i in issues:
        ws.append([i.sheet, i.cell, i.row_no, i.indicator, i.region, i.value, i.message_zh, i.message_en])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # a clerk's "=cmd|..." text must come back as text, never as a formula
    wb.active = 0
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
