"""Find a report's table, rows, unit and month by their content, whatever copy of the form the clerk used."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from config import Config, Form, normalize_text
from config.layout import LAYOUT
from contracts.messages import Issue, make_issue
from contracts.parsed import CELL_COLUMNS, ParsedReport
from core.month import reporting_month_for
from tasks.intake.safety import UnsafeFileError, check_file, check_size
from tasks.report.cells import month_in_text, parse_date, parse_value
from tasks.report.marker import MARKER_SHEET, Marker
from tasks.report.workbook import UNEVALUABLE, Extent, Grid, WorkbookError, address, read_grids

HEADER_SCAN_ROWS = 40
UNEVALUABLE_ZH, UNEVALUABLE_EN = "公式无法计算，请填写数值", "the formula cannot be evaluated; enter a number"


def _text(value: object) -> str:
    return normalize_text(value) if value is not None else ""


def _find_header(grid: Grid, cfg: Config) -> tuple[int, dict[str, int]] | None:
    wanted = {LAYOUT.row_no, LAYOUT.indicator, cfg.total_column}
    for r in range(1, min(grid.max_row, HEADER_SCAN_ROWS) + 1):
        texts = {_text(v): c for c, v in enumerate(grid.row_values(r), start=1) if v is not None}
        if wanted <= set(texts):
            return r, texts
    return None


def _detect_form(grid: Grid, cfg: Config, header_row: int, cols: dict[str, int]) -> Form | None:
    scores = {}
    for form in cfg.forms:
        rows = _data_rows(grid, header_row, cols[LAYOUT.row_no], len(form.rows))
        scores[form.code] = sum(
            _text(grid.get(r, cols[LAYOUT.indicator])) == normalize_text(form.row(n).indicator) for n, r in rows.items()
        ) + (1 if (cfg.region_names[0] in cols) == form.by_region else 0)
    best = max(scores, key=scores.__getitem__)
    return cfg.form(best) if scores[best] > 1 else None


def _data_rows(grid: Grid, header_row: int, col: int, n_rows: int) -> dict[int, int]:
    """row_no -> sheet row, for rows whose 序号 is a whole number 1..n (notes and blank rows are skipped)."""
    out: dict[int, int] = {}
    for r in range(header_row + 1, grid.max_row + 1):
        parsed = parse_value(grid.get(r, col), None, "count")
        if parsed.value is not None and parsed.value.is_integer() and 1 <= parsed.value <= n_rows:
            out.setdefault(int(parsed.value), r)
    return out


def _labelled(grids: list[Grid], label: str) -> object:
    """The value written after a label such as 填报单位: in the same cell or the next filled cell to its right."""
    for grid in grids:
        for (r, c), value in sorted(grid.values.items()):
            if isinstance(value, str) and label in normalize_text(value):
                rest = normalize_text(value).split(label, 1)[1].lstrip(":")
                if rest:
                    return rest
                for c2 in range(c + 1, grid.max_col + 1):
                    if grid.get(r, c2) not in (None, ""):
                        return grid.get(r, c2)
    return None


def _marker(grids: list[Grid]) -> Marker | None:
    for grid in grids:
        if grid.name == MARKER_SHEET:
            rows = [[grid.get(r, 1), grid.get(r, 2)] for r in range(1, grid.max_row + 1)]
            return Marker.from_rows(rows)
    return None


def _repeated_rows(grid: Grid, header_row: int, no_col: int, rows: dict[int, int]) -> list[tuple[int, int]]:
    """(sheet row, 序号) of each row whose 序号 an earlier data row already carried."""
    repeated = []
    seen: set[int] = set()
    for r in range(header_row + 1, grid.max_row + 1):
        parsed = parse_value(grid.get(r, no_col), None, "count")
        if parsed.value is not None and parsed.value.is_integer() and int(parsed.value) in rows:
            n = int(parsed.value)
            if n in seen:
                repeated.append((r, n))
            seen.add(n)
    return repeated


def _read_rows(out: ParsedReport, grid: Grid, cfg: Config, form: Form, header_row: int, cols: dict[str, int]) -> None:
    def err(rule: str, **kw: Any) -> None:  # the keywords are make_issue's, which types them
        out.issues.append(make_issue(rule, out.file_name, sheet=grid.name, **kw))

    for column in cfg.columns(form):
        if column not in cols:
            err("missing_column", cell=address(header_row, 1), column=column)
    rows = _data_rows(grid, header_row, cols[LAYOUT.row_no], len(form.rows))
    for r, n in _repeated_rows(grid, header_row, cols[LAYOUT.row_no], rows):
        err("duplicate_row", cell=address(r, cols[LAYOUT.row_no]), row_no=n)
    records = []
    for ind in form.rows:
        if ind.row_no not in rows:
            err("missing_row", row_no=ind.row_no, indicator=ind.indicator)
            continue
        r = rows[ind.row_no]
        found = grid.get(r, cols[LAYOUT.indicator])
        if _text(found) != normalize_text(ind.indicator):
            err(
                "indicator_mismatch",
                cell=address(r, cols[LAYOUT.indicator]),
                row_no=ind.row_no,
                indicator=ind.indicator,
                value=found,
                expected=ind.indicator,
                found=found or "",
            )
        for column in cfg.columns(form):
            if column not in cols:
                continue
            pos = (r, cols[column])
            raw = grid.values.get(pos)
            parsed = parse_value(raw, grid.formats.get(pos), ind.kind)
            problem = "formula_uncomputed" if pos in grid.formulas and raw is None else parsed.problem
            if pos in grid.problems and grid.problems[pos] == UNEVALUABLE:
                out.issues.append(
                    Issue(
                        "error",
                        "formula_unevaluable",
                        out.file_name,
                        grid.name,
                        address(*pos),
                        ind.row_no,
                        ind.indicator,
                        column,
                        grid.formulas[pos][:200],
                        UNEVALUABLE_ZH,
                        UNEVALUABLE_EN,
                    )
                )
            elif problem:
                err(
                    problem,
                    cell=address(*pos),
                    row_no=ind.row_no,
                    indicator=ind.indicator,
                    region=column,
                    value=raw if raw is not None else grid.formulas.get(pos),
                    formula=grid.formulas.get(pos),
                    measure_unit=ind.measure_unit,
                )
            records.append((ind.row_no, column, parsed.value, None if raw is None else str(raw), address(*pos)))
        if LAYOUT.remark in cols and grid.get(r, cols[LAYOUT.remark]) not in (None, ""):
            out.remarks[ind.row_no] = str(grid.get(r, cols[LAYOUT.remark])).strip()
    out.cells = pd.DataFrame.from_records(records, columns=CELL_COLUMNS)


def _identify(out: ParsedReport, grids: list[Grid], cfg: Config, marker: Marker | None) -> None:
    unit_text = _labelled(grids, LAYOUT.unit_label)
    out.unit_text = str(unit_text).strip() if unit_text is not None else None
    if marker and marker.unit in {u.code for u in cfg.units}:
        out.unit = cfg.unit(marker.unit)
    elif out.unit_text:
        out.unit = cfg.resolve_unit(out.unit_text)
    written = cfg.resolve_unit(out.unit_text) if out.unit_text else None
    if marker and out.unit and written and written != out.unit:
        out.issues.append(
            make_issue("unit_conflict", out.file_name, marker_unit=out.unit.name, unit_text=out.unit_text)
        )
    sheet_month = month_in_text(str(_labelled(grids, LAYOUT.month_label) or ""))
    if marker and sheet_month and sheet_month != marker.month:
        out.issues.append(
            make_issue("month_conflict", out.file_name, marker_month=marker.month, sheet_month=sheet_month)
        )
    out.sent_on = parse_date(_labelled(grids, LAYOUT.sent_label))
    for source, month in (
        ("marker", marker.month if marker else None),
        ("file name", month_in_text(Path(out.file_name).stem)),
        (LAYOUT.month_label, sheet_month),
        (LAYOUT.sent_label, reporting_month_for(out.sent_on) if out.sent_on else None),
    ):
        if month:
            out.month, out.month_source = month, source
            return


def form_extent(cfg: Config) -> Extent:
    """How far a form can reach: its header within HEADER_SCAN_ROWS, its rows with room for blank and note rows."""
    rows = max(len(f.rows) for f in cfg.forms)
    cols = max(len(cfg.columns(f)) for f in cfg.forms)
    return Extent(rows=HEADER_SCAN_ROWS + 4 * rows + 100, cols=4 * cols + 20)


def parse_report(data: bytes, file_name: str, cfg: Config) -> ParsedReport:
    """Parse a report workbook's bytes; never raises: problems, and any failure of the parser, land in `issues`."""
    try:
        return _parse(data, file_name, cfg)
    except Exception as exc:  # noqa: BLE001 - a file that breaks the parser is rejected, not retried on every sweep
        # The type only: an exception's text may quote a cell, and a cell may hold a person's name.
        out = ParsedReport(file_name=file_name)
        out.issues.append(make_issue("unreadable", file_name, reason=f"parser failed ({type(exc).__name__})"))
        return out


def refused_for_size(file_name: str, size: int) -> ParsedReport:
    """A report refused by its size alone, read from the open file before any of its bytes were."""
    out = ParsedReport(file_name=file_name)
    try:
        check_size(size)
    except UnsafeFileError as exc:
        out.issues.append(Issue("error", exc.rule, file_name, message_zh=exc.zh, message_en=exc.en))
    return out


def _parse(data: bytes, file_name: str, cfg: Config) -> ParsedReport:
    out = ParsedReport(file_name=file_name)
    try:
        check_file(data, Path(file_name).suffix)
    except UnsafeFileError as exc:
        out.issues.append(Issue("error", exc.rule, file_name, message_zh=exc.zh, message_en=exc.en))
        return out
    try:
        grids = read_grids(data, Path(file_name).suffix, form_extent(cfg))
    except WorkbookError as exc:
        out.issues.append(make_issue("unreadable", file_name, reason=str(exc)))
        return out
    marker = _marker(grids)
    content = sorted((g for g in grids if g.name != MARKER_SHEET), key=lambda g: g.hidden)
    _identify(out, content, cfg, marker)
    for grid in content:
        found = _find_header(grid, cfg)
        if found is None:
            continue
        header_row, cols = found
        form = _detect_form(grid, cfg, header_row, cols)
        if form is None:
            out.sheet = grid.name
            out.issues.append(make_issue("unknown_form", file_name, sheet=grid.name))
            return out
        out.sheet, out.form_code = grid.name, form.code
        _read_rows(out, grid, cfg, form, header_row, cols)
        return out
    out.issues.append(make_issue("no_table", file_name, total=cfg.total_column))
    return out
