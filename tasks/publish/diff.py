"""What changed between two versions of a published workbook: form rows matched by (unit, 序号), other sheets cell by
cell, each change labelled with its row, column and measure unit; and the summary a leader reads first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from python_calamine import CalamineWorkbook
from xlsxwriter.utility import xl_rowcol_to_cell

from config.layout import LAYOUT
from tasks.publish.forms import VERSION_COLUMN

CHANGE_COLUMNS = ["sheet", "cell", "row_label", "column_label", "old", "new", "measure_unit", "unit", "row_no"]
# 变更 is the diff itself; 封面 is stamped with the time of publishing, which is no change in the figures.
SKIP_SHEETS = {"变更", "封面"}
ADDED, DROPPED = "新增单位", "单位已不在本表"
TOP = 10

Rows = Sequence[Sequence[object]]


def read_sheets(path: Path) -> dict[str, Rows]:
    """Every sheet's cell values as rows (calamine: fast, and no formulas to evaluate in our files)."""
    wb = CalamineWorkbook.from_path(str(path))
    return {name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in wb.sheet_names}


def _cell(rows: Rows, r: int, c: int) -> object:
    value = rows[r][c] if r < len(rows) and c < len(rows[r]) else None
    return None if value == "" else value


def _plain(value: object) -> object:
    """A whole float as an int (calamine reads every number as a float: 序号 1.0 reads 1)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _same(a: object, b: object) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))
    return a == b


def _label(rows: Rows, r: int) -> str:
    return " ".join(str(_plain(v)) for v in (_cell(rows, r, c) for c in range(3)) if v is not None)


def _column_label(rows: Rows, r: int, c: int) -> str:
    """The nearest text above the cell in its column: the header the reader sees."""
    for above in range(r - 1, -1, -1):
        value = _cell(rows, above, c)
        if isinstance(value, str):
            return value.replace("\n", " ")
    return ""


@dataclass(frozen=True)
class _Form:
    """A form sheet (汇总 or 明细): its header row and its data rows keyed by (unit, 序号)."""

    header: int
    labels: list[str]
    rows: dict[tuple[str, int], int] = field(default_factory=dict)

    def at(self, label: str) -> int | None:
        return self.labels.index(label) if label in self.labels else None


def _form(rows: Rows) -> _Form | None:
    for h in range(min(len(rows), 10)):
        labels = [str(v or "").replace("\n", " ") for v in rows[h]]
        if LAYOUT.row_no in labels and LAYOUT.indicator in labels:
            form = _Form(h, labels)
            no, unit = form.at(LAYOUT.row_no), form.at(LAYOUT.unit_label)
            for r in range(h + 1, len(rows)):
                number = _plain(_cell(rows, r, no or 0))
                if isinstance(number, int):
                    form.rows[(str(_cell(rows, r, unit)) if unit is not None else "", number)] = r
            return form
    return None


def _form_changes(name: str, before: Rows, after: Rows, old: _Form, new: _Form) -> list[list[object]]:
    """Rows matched by (unit, 序号), columns by header: a unit added to the sheet shifts no other row's figures."""
    out: list[list[object]] = []
    for r in range(new.header + 1):
        out += _row_changes(name, before, after, r, r)
    units_before = {u for u, _ in old.rows}
    units_after = {u for u, _ in new.rows}
    for unit in [u for u in dict.fromkeys(u for u, _ in new.rows) if u not in units_before]:
        out.append([name, "", unit, ADDED, None, None, None, unit, None])
    for unit in [u for u in dict.fromkeys(u for u, _ in old.rows) if u not in units_after]:
        out.append([name, "", unit, DROPPED, None, None, None, unit, None])
    indicator, measure = new.at(LAYOUT.indicator), new.at(LAYOUT.measure_unit)
    for key, r in new.rows.items():
        if key[0] not in units_before:
            continue
        p = old.rows.get(key)
        label = " ".join(str(x) for x in (key[0], key[1], _cell(after, r, indicator or 0)) if x)
        for c, column in enumerate(new.labels):
            o = old.at(column)
            a = _cell(before, p, o) if p is not None and o is not None else None
            b = _cell(after, r, c)
            if not _same(a, b):
                plain = column in (*LAYOUT.lead_columns, VERSION_COLUMN, LAYOUT.remark)
                unit_of = _cell(after, r, measure) if measure is not None and not plain else None
                out.append([name, xl_rowcol_to_cell(r, c), label, column, a, b, unit_of, key[0] or None, key[1]])
    return out


def _row_changes(name: str, before: Rows, after: Rows, r_old: int, r_new: int) -> list[list[object]]:
    width = max(len(after[r_new]) if r_new < len(after) else 0, len(before[r_old]) if r_old < len(before) else 0)
    out: list[list[object]] = []
    for c in range(width):
        a, b = _cell(before, r_old, c), _cell(after, r_new, c)
        if not _same(a, b):
            source = after if r_new < len(after) else before
            label, column = _label(source, r_new), _column_label(source, r_new, c)
            out.append([name, xl_rowcol_to_cell(r_new, c), label, column, a, b, None, None, None])
    return out


def diff_workbooks(old: Path, new: Path) -> pd.DataFrame:
    """Changed cells of `new` against `old` (sheets added or dropped are one line each)."""
    before, after = read_sheets(old), read_sheets(new)
    changes: list[list[object]] = []
    for name in [n for n in before if n not in after and n not in SKIP_SHEETS]:
        changes.append([name, "", "工作表已删除", "", name, None, None, None, None])
    for name, rows in after.items():
        if name in SKIP_SHEETS:
            continue
        if name not in before:
            changes.append([name, "", "新增工作表", "", None, name, None, None, None])
            continue
        prev = before[name]
        old_form, new_form = _form(prev), _form(rows)
        if old_form and new_form:
            changes += _form_changes(name, prev, rows, old_form, new_form)
            continue
        for r in range(max(len(rows), len(prev))):
            changes += _row_changes(name, prev, rows, r, r)
    df = pd.DataFrame(changes, columns=CHANGE_COLUMNS)
    for c in ("old", "new"):
        df[c] = df[c].map(_plain).astype(object)
    return df


@dataclass(frozen=True)
class ChangeSummary:
    """What a leader reads first: units added, units whose figures changed, the largest changes by indicator."""

    added: list[str]
    changed: list[str]
    largest: pd.DataFrame  # sheet, row_no, indicator, measure_unit, old, new, delta, ratio
    n_cells: int

    def line(self) -> str:
        """The whole summary in one line (the cover's)."""
        parts = [f"新增：{'、'.join(self.added)}" if self.added else "无新增单位"]
        parts.append(f"数字有变化的单位：{'、'.join(self.changed)}" if self.changed else "已报单位数字无变化")
        return "；".join(parts) + f"；共 {self.n_cells:,} 处单元格变化"


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def summarize(changes: pd.DataFrame, total_column: str, summary_sheets: Sequence[str]) -> ChangeSummary:
    """Units added to and changed in the 明细 sheets; the `TOP` largest relative changes of each 汇总 total."""
    detail = changes[~changes["sheet"].isin(summary_sheets) & changes["unit"].notna()]
    added = list(dict.fromkeys(detail.loc[detail["column_label"] == ADDED, "unit"]))
    cells = detail[~detail["column_label"].isin([ADDED, DROPPED])]
    changed = [u for u in dict.fromkeys(cells["unit"]) if u not in added]
    totals = changes[
        changes["sheet"].isin(summary_sheets)
        & (changes["column_label"] == total_column)
        & changes["row_no"].notna()
        & (changes["measure_unit"] != "%")
    ].copy()
    old = totals["old"].map(lambda v: float(v) if _is_number(v) else 0.0)
    new = totals["new"].map(lambda v: float(v) if _is_number(v) else 0.0)
    totals["delta"] = new - old
    totals["ratio"] = [d / abs(o) if o else float("inf") for d, o in zip(totals["delta"], old, strict=True)]
    totals["size"] = totals["ratio"].abs()
    largest = totals.sort_values(["size", "delta"], ascending=False, kind="stable").head(TOP)
    largest = largest.assign(indicator=largest["row_label"].str.split(" ", n=1).str[-1])
    columns = ["sheet", "row_no", "indicator", "measure_unit", "old", "new", "delta", "ratio"]
    return ChangeSummary(added, changed, largest[columns].reset_index(drop=True), int(len(changes)))
