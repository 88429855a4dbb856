"""Consolidation arithmetic: sums over units, rates as weighted means (never sums), increments over the month."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from config import Config, load_config
from tasks.publish.consolidate import consolidate
from tasks.publish.data import VALUE_COLUMNS

CFG = load_config()
FORM = CFG.form("表1")
RATE = next(i for i in FORM.rows if i.kind == "rate")  # 市级项目开工率, weighted by 市级项目数
COUNT = FORM.row(1)
UNITS = [u.code for u in CFG.units_of_form("表1")]


def _frame(cells: dict[tuple[str, int, str], float | None], increments: dict | None = None) -> pd.DataFrame:
    """Rows as v_indicator_value gives them (value_month NaN unless given)."""
    increments = increments or {}
    rows = [
        (u, "表1", r, region, np.nan if v is None else v, increments.get((u, r, region), np.nan), None, 1, 1)
        for (u, r, region), v in cells.items()
    ]
    return pd.DataFrame(rows, columns=VALUE_COLUMNS)


unit_rows = st.lists(
    st.tuples(
        st.floats(0, 100, allow_nan=False),
        st.one_of(st.none(), st.integers(0, 500)),
        st.one_of(st.none(), st.integers(0, 10_000)),
    ),
    min_size=1,
    max_size=len(UNITS),
)


@settings(max_examples=30, deadline=None)
@given(unit_rows)
def test_rate_is_the_mean_weighted_by_its_weight_row_and_counts_are_sums(rows) -> None:
    cells = {}
    for code, (rate, weight, count) in zip(UNITS, rows, strict=False):
        cells[(code, RATE.row_no, "合计")] = rate
        cells[(code, RATE.weight_row, "合计")] = weight
        cells[(code, COUNT.row_no, "合计")] = count
    df = _frame(cells)
    cons = consolidate(CFG, df)["表1"]
    weighted = [(r, w) for r, w, _ in rows if w is not None]
    total_w = sum(w for _, w in weighted)
    got = cons.values.loc[RATE.row_no, "合计"]
    if total_w > 0:
        assert math.isclose(got, sum(r * w for r, w in weighted) / total_w, rel_tol=1e-9, abs_tol=1e-9)
    else:
        assert math.isnan(got) and "无法加权" in cons.notes[(RATE.row_no, "合计")]
    missing = sum(1 for _, w, _ in rows if w is None)
    if missing and total_w > 0:
        assert f"{missing} unit(s) without weight" in cons.notes[(RATE.row_no, "合计")]
    counts = [c for _, _, c in rows if c is not None]
    got_count = cons.values.loc[COUNT.row_no, "合计"]
    assert (math.isnan(got_count) and not counts) or got_count == sum(counts)
    assert math.isnan(cons.increments.loc[RATE.row_no, "合计"])


def test_a_rate_is_not_the_plain_mean() -> None:
    a, b = UNITS[:2]
    df = _frame(
        {
            (a, RATE.row_no, "内蒙古"): 100.0,
            (a, RATE.weight_row, "内蒙古"): 9,
            (b, RATE.row_no, "内蒙古"): 0.0,
            (b, RATE.weight_row, "内蒙古"): 1,
        }
    )
    cons = consolidate(CFG, df)["表1"]
    assert cons.values.loc[RATE.row_no, "内蒙古"] == 90.0


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 1000), st.one_of(st.none(), st.integers(-50, 1000))), min_size=1, max_size=len(UNITS)
    )
)
def test_increment_is_the_sum_of_the_units_known_monthly_increments(pairs) -> None:
    keys = [(u, COUNT.row_no, "合计") for u in UNITS]
    df = _frame(
        {k: float(v) for k, (v, _) in zip(keys, pairs, strict=False)},
        {k: float(i) for k, (_, i) in zip(keys, pairs, strict=False) if i is not None},
    )
    got = consolidate(CFG, df)["表1"].increments.loc[COUNT.row_no, "合计"]
    known = [i for _, i in pairs if i is not None]
    assert (math.isnan(got) and not known) or got == sum(known)


def test_a_rate_has_no_increment_even_if_one_is_given(cfg: Config) -> None:
    key = (UNITS[0], RATE.row_no, "合计")
    cons = consolidate(cfg, _frame({key: 50.0, (UNITS[0], RATE.weight_row, "合计"): 3.0}, {key: 5.0}))["表1"]
    assert cons.values.loc[RATE.row_no, "合计"] == 50.0 and math.isnan(cons.increments.loc[RATE.row_no, "合计"])


def test_a_form_nobody_reported_is_blank_not_zero(cfg: Config) -> None:
    cons = consolidate(cfg, _frame({(UNITS[0], COUNT.row_no, "合计"): 1.0}))["表3"]
    assert cons.values.isna().all().all() and cons.increments.isna().all().all()
