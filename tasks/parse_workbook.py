"""Read any workbook a clerk sends (.xlsx/.xlsm via openpyxl, .xls/.ods via python-calamine) into plain grids."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from openpyxl import load_workbook
from openpyxl.utils import column_index_from_string, get_column_letter

from tasks.parse_cells import parse_value

Pos = tuple[int, int]
OPENPYXL_SUFFIXES = (".xlsx", ".xlsm")
CALAMINE_SUFFIXES = (".xls", ".ods", ".xlsb")
SUFFIXES = OPENPYXL_SUFFIXES + CALAMINE_SUFFIXES
_REF = r"\$?([A-Z]{1,3})\$?(\d+)"
_SUM = re.compile(rf"SUM\(\s*{_REF}\s*:\s*{_REF}\s*\)", re.IGNORECASE)
_CELL = re.compile(_REF)
_SAFE = re.compile(r"^[0-9.+\-*/() ]*$")


class WorkbookError(ValueError):
    """The file cannot be read as a workbook at all."""


@dataclass
class Grid:
    """One sheet's cells, 1-based (row, column); `formulas` holds formulas Excel never computed."""

    name: str
    hidden: bool = False
    values: dict[Pos, object] = field(default_factory=dict)
    formats: dict[Pos, str] = field(default_factory=dict)
    formulas: dict[Pos, str] = field(default_factory=dict)
    max_row: int = 0
    max_col: int = 0

    def get(self, row: int, col: int) -> object:
        return self.values.get((row, col))

    def row_values(self, row: int) -> list[object]:
        return [self.values.get((row, c)) for c in range(1, self.max_col + 1)]


def address(row: int, col: int) -> str:
    return f"{get_column_letter(col)}{row}"


def read_grids(data: bytes, suffix: str) -> list[Grid]:
    """Every sheet of the workbook in `data`; WorkbookError with a clear reason if it is not one."""
    suffix = suffix.lower()
    if suffix in OPENPYXL_SUFFIXES:
        return _read_openpyxl(data)
    if suffix in CALAMINE_SUFFIXES:
        return _read_calamine(data)
    raise WorkbookError(f"unsupported file type {suffix or '(none)'}: send .xlsx, .xls or .ods")


def _read_openpyxl(data: bytes) -> list[Grid]:
    try:
        cached = load_workbook(io.BytesIO(data), data_only=True)
        typed = load_workbook(io.BytesIO(data), data_only=False)
    except Exception as exc:
        raise WorkbookError(f"not a readable .xlsx workbook ({type(exc).__name__})") from exc
    grids = []
    for ws in typed.worksheets:
        grid = Grid(ws.title, hidden=ws.sheet_state != "visible", max_row=ws.max_row, max_col=ws.max_column)
        values = cached[ws.title]
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                pos = (cell.row, cell.column)
                value = values.cell(*pos).value
                if isinstance(cell.value, str) and cell.value.startswith("=") and value is None:
                    grid.formulas[pos] = cell.value
                grid.values[pos] = value
                grid.formats[pos] = cell.number_format
        _evaluate_formulas(grid)
        grids.append(grid)
    return grids


def _read_calamine(data: bytes) -> list[Grid]:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:
        raise WorkbookError(f"not a readable .xls/.ods workbook ({type(exc).__name__}: {exc})") from exc
    grids = []
    for meta in wb.sheets_metadata:
        rows = wb.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
        grid = Grid(meta.name, hidden=str(meta.visible).rsplit(".", 1)[-1] != "Visible")
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value not in (None, ""):
                    grid.values[(r, c)] = value
        grid.max_row = len(rows)
        grid.max_col = max((len(r) for r in rows), default=0)
        grids.append(grid)
    return grids


def _number(grid: Grid, pos: Pos, depth: int) -> float:
    if pos in grid.formulas:
        _evaluate(grid, pos, depth + 1)
    parsed = parse_value(grid.values.get(pos), None, "count")
    return parsed.value or 0.0


def _evaluate(grid: Grid, pos: Pos, depth: int = 0) -> None:
    """Compute a SUM/+/- formula Excel never cached; leave it None (reported later) if it is anything else."""
    formula = grid.formulas.get(pos)
    if formula is None or depth > 20 or grid.values.get(pos) is not None:
        return

    def cells(a: str, r1: str, b: str, r2: str) -> str:
        c1, c2 = column_index_from_string(a), column_index_from_string(b)
        return repr(sum(_number(grid, (r, c), depth) for r in range(int(r1), int(r2) + 1) for c in range(c1, c2 + 1)))

    expr = _SUM.sub(lambda m: cells(*m.groups()), formula[1:].upper())
    expr = _CELL.sub(lambda m: repr(_number(grid, (int(m[2]), column_index_from_string(m[1])), depth)), expr)
    if _SAFE.match(expr):
        try:
            grid.values[pos] = float(eval(expr, {"__builtins__": {}}))
            return
        except (SyntaxError, ZeroDivisionError):
            pass


def _evaluate_formulas(grid: Grid) -> None:
    for pos in list(grid.formulas):
        _evaluate(grid, pos)
