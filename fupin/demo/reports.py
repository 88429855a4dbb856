"""Filled demo report workbooks: year-to-date values that grow month to month and satisfy every form rule."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from config import Config, Form, Indicator, Unit
from core.month import Month
from fupin.demo import report_quirks
from tasks.report.templates import FIRST_DATA_ROW, build_template

REMARK = "remark"
# Monthly increments per measure unit: (low, high); money in units of 0.0001 亿元 so sums stay exact.
_STEP = {"人次": (3, 30), "人": (20, 200), "个": (2, 12), "期": (1, 4), "亿元": (200, 5000)}
_MONEY_SCALE = 10_000


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random("|".join(map(str, (seed, *parts))))


def _base(seed: int, unit: Unit, ind: Indicator, region: str, mon: int) -> int:
    lo, hi = _STEP[ind.measure_unit]
    rng = _rng(seed, unit.code, ind.key, region)
    return sum(rng.randint(lo, hi) for _ in range(mon))


def _share(seed: int, unit: Unit, ind: Indicator, siblings: int) -> float:
    return 0.8 / siblings * (0.6 + 0.4 * _rng(seed, unit.code, ind.key, "share").random())


def _rate(seed: int, unit: Unit, ind: Indicator, region: str, mon: int) -> float:
    start = _rng(seed, unit.code, ind.key, region, "rate").uniform(20, 50)
    return round(min(100.0, start + 5 * mon), 1)


def _weighted(rates: Mapping[str, float], weights: Mapping[str, float]) -> float:
    total = sum(weights.values())
    if total == 0:
        return round(sum(rates.values()) / len(rates), 1)
    return round(sum(rates[r] * weights[r] for r in rates) / total, 1)


def report_values(cfg: Config, unit: Unit, month: str, seed: int = 0) -> pd.DataFrame:
    """The figures `unit` reports for `month`: row_no, the form's value columns and (表3) remark."""
    mon = Month(month).mon
    form = cfg.form(unit.form_code)
    regions = list(cfg.columns(form)[1:]) or [cfg.total_column]
    raw: dict[int, dict[str, int | float]] = {}
    for ind in form.rows:
        if ind.kind == "rate":
            continue
        ref = ind.parent or ind.at_most
        if ref is None:
            raw[ind.row_no] = {r: _base(seed, unit, ind, r, mon) for r in regions}
        else:
            siblings = len(form.children(ref)) if ind.parent else 1
            share = _share(seed, unit, ind, siblings)
            raw[ind.row_no] = {r: int(raw[ref][r] * share) for r in regions}
    for ind in form.rows:
        if ind.kind == "rate":
            raw[ind.row_no] = {r: _rate(seed, unit, ind, r, mon) for r in regions}
    records = []
    for ind in form.rows:
        cells = raw[ind.row_no]
        if ind.kind == "rate":
            weights = {r: raw[ind.weight_row][r] for r in regions} if ind.weight_row else dict.fromkeys(regions, 1)
            total = _weighted(cells, weights)
        else:
            total = sum(cells.values())
        values = {r: _scaled(ind, v) for r, v in cells.items()}
        values[cfg.total_column] = _scaled(ind, total)
        record: dict[str, object] = {"row_no": ind.row_no, **{c: values[c] for c in cfg.columns(form)}}
        if not form.by_region:
            record[REMARK] = f"{unit.short_name}{month}进展" if ind.row_no == 1 else None
        records.append(record)
    return pd.DataFrame.from_records(records)


def _scaled(ind: Indicator, value: float) -> float:
    return round(value / _MONEY_SCALE, 4) if ind.kind == "money" else float(value)


def default_sent_on(month: str) -> dt.date:
    """A plausible 报送时间: the 8th of the following month, before the deadline."""
    after = Month(month).shift(1)
    return dt.date(after.year, after.mon, 8)


def value_column(cfg: Config, form: Form, column: str) -> int:
    """The 1-based sheet column of a value column (or `remark`) in the office's template."""
    names = [*cfg.columns(form), REMARK]
    return 5 + names.index(column)


def fill_sheet(
    ws: Worksheet, cfg: Config, form: Form, values: pd.DataFrame, first_row: int = FIRST_DATA_ROW, first_col: int = 5
) -> None:
    """Write `values` into the data rows of a sheet in template layout."""
    columns = [*cfg.columns(form), *([] if form.by_region else [REMARK])]
    for offset, rec in enumerate(values.to_dict("records")):
        for i, col in enumerate(columns):
            v = rec[col]
            ws.cell(first_row + offset, first_col + i, None if pd.isna(v) else v)


def write_filled_report(
    cfg: Config,
    unit: Unit,
    month: str,
    path: Path | str,
    seed: int = 0,
    values: pd.DataFrame | None = None,
    **quirks: object,
) -> Path:
    """Write `unit`'s filled report for `month` to `path`, then apply each named quirk (see report_quirks)."""
    path = Path(path)
    form = cfg.form(unit.form_code)
    values = report_values(cfg, unit, month, seed) if values is None else values
    wb: Workbook = build_template(cfg, unit, month)
    ws = wb[form.code]
    fill_sheet(ws, cfg, form, values)
    ws.cell(FIRST_DATA_ROW + len(form.rows) + 1, 6, default_sent_on(month))
    report_quirks.apply(wb, ws, cfg, form, quirks)
    path.parent.mkdir(parents=True, exist_ok=True)
    if quirks.get("retyped"):
        wb = report_quirks.retype(wb, ws, cfg, form)
    wb.save(path)
    return path


def write_month(
    cfg: Config, month: str, out_dir: Path, seed: int = 0, quirks: Mapping[str, Mapping[str, Any]] | None = None
) -> list[Path]:
    """One filled report per unit for `month`; `quirks` maps a unit code to the quirks applied to its file."""
    quirks = quirks or {}
    return [
        write_filled_report(
            cfg, u, month, Path(out_dir) / f"{month}_{u.form_code}_{u.code}.xlsx", seed, **quirks.get(u.code, {})
        )
        for u in cfg.units
    ]
