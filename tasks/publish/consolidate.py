"""Consolidate a form over its units: sums for counts and money, weighted means for rates, summed monthly increments."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from config import Config, Form

KEYS = ["unit_code", "form_code", "row_no", "region"]


@dataclass(frozen=True)
class Consolidated:
    """One form's consolidated figures: values and increments (index row_no, columns 合计 + regions)."""

    form_code: str
    values: pd.DataFrame
    increments: pd.DataFrame
    notes: dict[tuple[int, str], str] = field(default_factory=dict)
    remarks: dict[int, str] = field(default_factory=dict)


def _grid(cfg: Config, form: Form, df: pd.DataFrame) -> pd.DataFrame:
    """Values of one form as (unit_code, row_no) × column."""
    part = df[df["form_code"] == form.code]
    grid = part.set_index(["unit_code", "row_no", "region"])["value"].unstack("region")
    return grid.reindex(columns=list(cfg.columns(form))).astype("float64")


def _weighted(cfg: Config, form: Form, grid: pd.DataFrame, row_no: int, col: str) -> tuple[float, str | None]:
    """The mean of a rate weighted by its weight row, and a note naming units left out for want of a weight."""
    ind = form.row(row_no)
    rates = grid.xs(row_no, level="row_no")[col] if row_no in grid.index.get_level_values("row_no") else pd.Series()
    rates = rates.dropna()
    if rates.empty:
        return np.nan, None
    if ind.weight_row is None:
        return np.nan, f"未配置权重行，无法汇总{ind.indicator} / no weight row configured"
    weight = form.row(ind.weight_row)
    weights = (
        grid.xs(ind.weight_row, level="row_no")[col].reindex(rates.index)
        if ind.weight_row in grid.index.get_level_values("row_no")
        else pd.Series(np.nan, index=rates.index)
    )
    usable = weights.notna()
    missing = [cfg.unit(u).name for u in rates.index[~usable]]
    total = float(weights[usable].sum())
    if total <= 0:
        return np.nan, (
            f"无法加权：{weight.indicator}(序号{weight.row_no})未报或为0，涉及 {len(rates)} 个单位 / "
            f"no weights ({weight.indicator}) for this rate"
        )
    value = float((rates[usable] * weights[usable]).sum() / total)
    note = None
    if missing:
        note = (
            f"按{weight.indicator}(序号{weight.row_no})加权；{'、'.join(missing)}未报{weight.indicator}，"
            f"未计入 / {len(missing)} unit(s) without weight left out"
        )
    return value, note


def consolidate_form(cfg: Config, form: Form, values: pd.DataFrame, increments: pd.DataFrame) -> Consolidated:
    """Sum counts and money over the units of `form`; rates as the mean weighted by their weight row."""
    columns = list(cfg.columns(form))
    row_nos = [r.row_no for r in form.rows]
    grid, inc_grid = _grid(cfg, form, values), _grid(cfg, form, increments)
    out = grid.groupby(level="row_no").sum(min_count=1).reindex(index=row_nos, columns=columns).astype("float64")
    inc = inc_grid.groupby(level="row_no").sum(min_count=1).reindex(index=row_nos, columns=columns).astype("float64")
    notes: dict[tuple[int, str], str] = {}
    for ind in (r for r in form.rows if r.kind == "rate"):
        inc.loc[ind.row_no, :] = np.nan
        for col in columns:
            value, note = _weighted(cfg, form, grid, ind.row_no, col)
            out.loc[ind.row_no, col] = value
            if note:
                notes[(ind.row_no, col)] = note
    return Consolidated(form.code, out, inc, notes, _remarks(cfg, form, values))


def _remarks(cfg: Config, form: Form, values: pd.DataFrame) -> dict[int, str]:
    """Each row's remarks (表3 备注), prefixed with the unit that wrote them."""
    part = values[(values["form_code"] == form.code) & values["remark"].notna() & (values["remark"] != "")]
    out: dict[int, list[str]] = {}
    for unit_code, row_no, remark in zip(part["unit_code"], part["row_no"], part["remark"], strict=False):
        out.setdefault(int(row_no), []).append(f"{cfg.unit(unit_code).name}：{remark}")
    return {k: "；".join(v) for k, v in out.items()}


def consolidate(cfg: Config, current: pd.DataFrame) -> dict[str, Consolidated]:
    """Every form consolidated for the month: values, and increments summed from the units' value_month."""
    increments = current[KEYS].assign(value=current["value_month"])
    return {f.code: consolidate_form(cfg, f, current, increments) for f in cfg.forms}
