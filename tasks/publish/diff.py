"""What changed between two versions of a published workbook, cell by cell, with row and column labels."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from python_calamine import CalamineWorkbook
from xlsxwriter.utility import xl_rowcol_to_cell

CHANGE_COLUMNS = ["sheet", "cell", "row_label", "column_label", "old", "new"]
SKIP_SHEETS = {"变更"}


def read_sheets(path: Path) -> dict[str, Sequence[Sequence[object]]]:
    """Every sheet's cell values as rows (calamine: fast, and no formulas to evaluate in our files)."""
    wb = CalamineWorkbook.from_path(str(path))
    return {name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in wb.sheet_names}


def _cell(rows: Sequence[Sequence[object]], r: int, c: int) -> object:
    value = rows[r][c] if r < len(rows) and c < len(rows[r]) else None
    return None if value == "" else value


def _same(a: object, b: object) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))
    return a == b


def _row_label(rows: Sequence[Sequence[object]], r: int) -> str:
    return " ".join(str(v) for v in (_cell(rows, r, c) for c in range(3)) if v is not None)


def _column_label(rows: Sequence[Sequence[object]], r: int, c: int) -> str:
    """The nearest text above the cell in its column: the header the reader sees."""
    for above in range(r - 1, -1, -1):
        value = _cell(rows, above, c)
        if isinstance(value, str):
            return value.replace("\n", " ")
    return ""


def diff_workbooks(old: Path, new: Path) -> pd.DataFrame:
    """Changed cells of `new` against `old` (sheets added or dropped are one line each)."""
    before, after = read_sheets(old), read_sheets(new)
    changes: list[list[object]] = []
    for name in [n for n in before if n not in after and n not in SKIP_SHEETS]:
        changes.append([name, "", "工作表已删除", "", name, None])
    for name, rows in after.items():
        if name in SKIP_SHEETS:
            continue
        if name not in before:
            changes.append([name, "", "新增工作表", "", None, name])
            continue
        prev = before[name]
        for r in range(max(len(rows), len(prev))):
            width = max(len(rows[r]) if r < len(rows) else 0, len(prev[r]) if r < len(prev) else 0)
            for c in range(width):
                a, b = _cell(prev, r, c), _cell(rows, r, c)
                if not _same(a, b):
                    source = rows if r < len(rows) else prev
                    changes.append(
                        [name, xl_rowcol_to_cell(r, c), _row_label(source, r), _column_label(source, r, c), a, b]
                    )
    return pd.DataFrame(changes, columns=CHANGE_COLUMNS)
