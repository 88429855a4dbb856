"""Read any workbook a clerk sends (.xlsx/.xlsm via openpyxl, .xls/.ods via python-calamine) into plain grids."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from tasks.report.cells import parse_value
from tasks.report.formula import Budget, Parser, Unevaluable, Unsupported

if TYPE_CHECKING:
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

Pos = tuple[int, int]
OPENPYXL_SUFFIXES = (".xlsx", ".xlsm")
CALAMINE_SUFFIXES = (".xls", ".ods", ".xlsb")
SUFFIXES = OPENPYXL_SUFFIXES + CALAMINE_SUFFIXES
UNSUPPORTED, UNEVALUABLE = "unsupported", "unevaluable"


class WorkbookError(ValueError):
    """The file cannot be read as a workbook at all."""


@dataclass(frozen=True)
class Extent:
    """How much of a workbook is read: the first `sheets` sheets (visible first), `rows` x `cols` cells of each."""

    rows: int = 1_000
    cols: int = 100
    sheets: int = 20


@dataclass
class Grid:
    """One sheet's cells, 1-based (row, column); `formulas` holds formulas Excel never computed.

    `problems` says why a formula has no value: UNSUPPORTED (a function we do not compute) or UNEVALUABLE.
    """

    name: str
    hidden: bool = False
    values: dict[Pos, object] = field(default_factory=dict)
    formats: dict[Pos, str] = field(default_factory=dict)
    formulas: dict[Pos, str] = field(default_factory=dict)
    problems: dict[Pos, str] = field(default_factory=dict)
    max_row: int = 0
    max_col: int = 0
    extent: Extent = field(default_factory=Extent)

    def get(self, row: int, col: int) -> object:
        return self.values.get((row, col))

    def row_values(self, row: int) -> list[object]:
        return [self.values.get((row, c)) for c in range(1, self.max_col + 1)]

    def put(self, pos: Pos, value: object) -> None:
        self.values[pos] = value
        self.max_row, self.max_col = max(self.max_row, pos[0]), max(self.max_col, pos[1])


def address(row: int, col: int) -> str:
    return f"{get_column_letter(col)}{row}"


def read_grids(data: bytes, suffix: str, extent: Extent | None = None) -> list[Grid]:
    """The sheets of the workbook in `data`, within `extent`; WorkbookError with a clear reason if it is not one."""
    suffix, extent = suffix.lower(), extent or Extent()
    if suffix in OPENPYXL_SUFFIXES:
        return _read_openpyxl(data, extent)
    if suffix in CALAMINE_SUFFIXES:
        return _read_calamine(data, extent)
    raise WorkbookError(f"unsupported file type {suffix or '(none)'}: send .xlsx, .xls or .ods")


def _read_openpyxl(data: bytes, extent: Extent) -> list[Grid]:
    # Read-only mode streams each sheet and stops at the extent: normal mode (and iter_rows on it) built every cell
    # of the rectangle up to the farthest one, a million cells for one at row 5,000 and one at column 200.
    try:
        typed = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        cached = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise WorkbookError(f"not a readable .xlsx workbook ({type(exc).__name__})") from exc
    try:
        sheets = sorted(typed.worksheets, key=lambda ws: ws.sheet_state != "visible")[: extent.sheets]
        return [_read_sheet(ws, cached[ws.title], extent) for ws in sheets]
    finally:
        typed.close()
        cached.close()


def _read_sheet(ws: ReadOnlyWorksheet, cached_ws: ReadOnlyWorksheet, extent: Extent) -> Grid:
    grid = Grid(ws.title, hidden=ws.sheet_state != "visible", extent=extent)
    # types-openpyxl declares ReadOnlyWorksheet.iter_rows as Worksheet's own method, so the self type cannot match.
    formulas = ws.iter_rows(max_row=extent.rows, max_col=extent.cols)  # type: ignore[misc]
    cached = cached_ws.iter_rows(max_row=extent.rows, max_col=extent.cols, values_only=True)  # type: ignore[misc]
    rows = zip(formulas, cached, strict=False)
    for r, (cells, values) in enumerate(rows, start=1):
        for c, (cell, value) in enumerate(zip(cells, values, strict=False), start=1):
            if cell.value is None:
                continue
            if isinstance(cell.value, str) and cell.value.startswith("=") and value is None:
                grid.formulas[(r, c)] = cell.value
            grid.put((r, c), value)
            grid.formats[(r, c)] = cell.number_format
    evaluate_formulas(grid)
    return grid


def _read_calamine(data: bytes, extent: Extent) -> list[Grid]:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:
        raise WorkbookError(f"not a readable .xls/.ods workbook ({type(exc).__name__}: {exc})") from exc
    grids = []
    metas = sorted(wb.sheets_metadata, key=lambda m: str(m.visible).rsplit(".", 1)[-1] != "Visible")
    for meta in metas[: extent.sheets]:
        rows = wb.get_sheet_by_name(meta.name).to_python(skip_empty_area=False, nrows=extent.rows)
        grid = Grid(meta.name, hidden=str(meta.visible).rsplit(".", 1)[-1] != "Visible", extent=extent)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row[: extent.cols], start=1):
                if value not in (None, ""):
                    grid.put((r, c), value)
        grids.append(grid)
    return grids


class _Evaluation:
    """The formulas of one grid computed on demand, each once, within one Budget; cycles are errors."""

    def __init__(self, grid: Grid) -> None:
        self.grid, self.budget, self.active = grid, Budget(), set[Pos]()

    def value(self, pos: Pos) -> float:
        self.budget.spend()
        if not (1 <= pos[0] <= self.grid.extent.rows and 1 <= pos[1] <= self.grid.extent.cols):
            raise Unevaluable("outside the form's own cells")
        if pos in self.grid.formulas and self.grid.values.get(pos) is None:
            self.evaluate(pos)
        problem = self.grid.problems.get(pos)
        if problem:
            raise Unsupported(problem) if problem == UNSUPPORTED else Unevaluable(problem)
        return parse_value(self.grid.values.get(pos), None, "count").value or 0.0

    def values(self, first: Pos, last: Pos) -> list[float]:
        rows = range(min(first[0], last[0]), max(first[0], last[0]) + 1)
        cols = range(min(first[1], last[1]), max(first[1], last[1]) + 1)
        self.budget.spend(len(rows) * len(cols))
        return [self.value((r, c)) for r in rows for c in cols]

    def evaluate(self, pos: Pos) -> None:
        if pos in self.grid.problems:
            return
        if pos in self.active:
            raise Unevaluable("circular reference")
        self.active.add(pos)
        try:
            with self.budget.deeper():
                parser = Parser(self.grid.formulas[pos][1:], self.value, self.values, self.budget)
                self.grid.values[pos] = parser.parse()
        except Unsupported:
            self.grid.problems[pos] = UNSUPPORTED
        except Unevaluable:
            self.grid.problems[pos] = UNEVALUABLE
        finally:
            self.active.discard(pos)


def evaluate_formulas(grid: Grid) -> None:
    """Compute every formula Excel left without a value, within bounds; the others are named in grid.problems."""
    run = _Evaluation(grid)
    for pos in list(grid.formulas):
        if grid.values.get(pos) is None:
            run.evaluate(pos)
