"""变更: the summary a leader reads first (units added, units changed, largest changes), then every changed cell."""

from __future__ import annotations

import math
from typing import cast

import pandas as pd
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook

from config.model import MEASURE_KINDS
from tasks.publish.diff import ChangeSummary
from tasks.xlsx.style import Styles, add_sheet, banner, print_setup, write_value

CHANGES_SHEET = "变更"


def _number(s: Styles, measure_unit: object) -> Format:
    return s.measure(str(measure_unit)) if measure_unit in MEASURE_KINDS else s.text


def write_changes(
    wb: Workbook, s: Styles, changes: pd.DataFrame, summary: ChangeSummary, previous_version: int
) -> None:
    """The summary block, the largest changes of the 汇总 totals, then the cell list (sheet, cell, row, column,
    old → new, measure unit)."""
    ws = add_sheet(wb, CHANGES_SHEET)
    old, new = f"第{previous_version}版", "本版"
    banner(ws, 0, f"变更：本版与第{previous_version}版相比", s.title)
    banner(ws, 1, f"新增：{'、'.join(summary.added)}" if summary.added else "新增：无", s.plain)
    changed = f"数字有变化的单位（{len(summary.changed)}个）：{'、'.join(summary.changed) or '无'}"
    banner(ws, 2, changed, s.plain)
    banner(ws, 3, f"汇总表合计变化最大的{len(summary.largest)}项指标（按增幅）", s.subtitle)
    top = 4
    for c, h in enumerate(("表", "序号", "指标", "单位", old, new, "增减", "增幅")):
        write_value(ws, top, c, h, s.header)
    r = top
    for r, row in enumerate(summary.largest.itertuples(index=False), start=top + 1):
        fmt = _number(s, row.measure_unit)
        ratio = float(cast(float, row.ratio))
        row_no = int(cast(float, row.row_no))
        values = (str(row.sheet).split(" ")[0], row_no, row.indicator, row.measure_unit, row.old, row.new)
        for c, (value, f) in enumerate(zip(values, (s.center, s.center, s.text, s.center, fmt, fmt), strict=True)):
            write_value(ws, r, c, value, f)
        write_value(ws, r, 6, row.delta, fmt)
        if math.isinf(ratio):
            write_value(ws, r, 7, "新报", s.center)
        else:
            write_value(ws, r, 7, ratio, s.numbers["ratio"])
    r += 2
    banner(ws, r, f"逐格变化（共 {len(changes):,} 处）", s.subtitle)
    header = r + 1
    for c, h in enumerate(("工作表", "单元格", "行", "列", old, new, "单位")):
        write_value(ws, header, c, h, s.header)
    for r, row in enumerate(changes.itertuples(index=False), start=header + 1):
        fmt = _number(s, row.measure_unit)
        write_value(ws, r, 0, row.sheet, s.text)
        write_value(ws, r, 1, row.cell, s.center)
        write_value(ws, r, 2, row.row_label, s.text)
        write_value(ws, r, 3, row.column_label, s.text)
        write_value(ws, r, 4, row.old, fmt)
        write_value(ws, r, 5, row.new, s.flag if fmt is s.text else fmt)
        write_value(ws, r, 6, row.measure_unit, s.center)
    print_setup(ws, header, widths=[8, 6, 20, 8, 10, 10, 6], repeat=(header, header), freeze=False, maximum=28)
