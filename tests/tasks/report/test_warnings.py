"""Warnings: a year-to-date value below last month's, and a monthly increment that is an outlier for the unit."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from config import Config
from contracts.parsed import CELL_COLUMNS, ParsedReport
from tasks.report.warnings import increments, modified_z, outliers, ytd_decrease

MONEY_ROW = 4


def report(cfg: Config, month: str, values: dict[int, float]) -> ParsedReport:
    unit = cfg.units_of_form("表3")[0]
    cells = pd.DataFrame(
        [(n, cfg.total_column, v, str(v), f"E{4 + n}") for n, v in values.items()], columns=CELL_COLUMNS
    )
    return ParsedReport(file_name="f.xlsx", sheet="表3", form_code="表3", unit=unit, month=month, cells=cells)


def history(cfg: Config, series: dict[str, float], row_no: int = 1) -> pd.DataFrame:
    return pd.DataFrame(
        [(m, row_no, cfg.total_column, v) for m, v in series.items()], columns=["month", "row_no", "region", "value"]
    )


def test_ytd_below_last_month_warns_at_the_cell(cfg: Config) -> None:
    [w] = ytd_decrease(report(cfg, "2020-09", {1: 90, 2: 50}), cfg, history(cfg, {"2020-08": 100}))
    assert (w.severity, w.rule, w.cell, w.row_no, w.value) == ("warning", "ytd_decrease", "E5", 1, "90")
    assert w.message_en == "year-to-date 90 is below last month's 100"


def test_january_starts_afresh(cfg: Config) -> None:
    assert ytd_decrease(report(cfg, "2021-01", {1: 5}), cfg, history(cfg, {"2020-12": 100})) == []


def test_rates_are_not_year_to_date(cfg: Config) -> None:
    rate = next(r.row_no for r in cfg.form("表3").rows if r.kind == "rate")
    assert ytd_decrease(report(cfg, "2020-09", {rate: 10}), cfg, history(cfg, {"2020-08": 90}, rate)) == []


def test_increments_from_year_to_date() -> None:
    h = pd.DataFrame(
        [("2020-01", 1, "T", 10.0), ("2020-02", 1, "T", 25.0), ("2020-04", 1, "T", 40.0), ("2021-01", 1, "T", 3.0)],
        columns=["month", "row_no", "region", "value"],
    )
    got = increments(h).set_index("month")["increment"].to_dict()
    assert got == {"2020-01": 10.0, "2020-02": 15.0, "2021-01": 3.0}  # 2020-04 has no March: no increment


def test_modified_z_matches_iglewicz_hoaglin() -> None:
    assert modified_z(pd.Series([1, 2, 3, 4, 5, 6.0]), 100) == pytest.approx(0.6745 * 96.5 / 1.5)
    assert modified_z(pd.Series([1, 2, 3.0]), 100) is None  # too short
    assert modified_z(pd.Series([5.0] * 8), 100) is None  # no spread


@given(st.lists(st.floats(0, 1e6), min_size=6, max_size=30), st.floats(0, 1e6))
def test_modified_z_is_scale_free(h: list[float], x: float) -> None:
    a, b = modified_z(pd.Series(h), x), modified_z(pd.Series(h) * 3, x * 3)
    assert (a is None) == (b is None) and (a is None or b == pytest.approx(a, rel=1e-6, abs=1e-9))


def _ytd(increments_: list[float], year: int = 2020) -> dict[str, float]:
    out, total = {}, 0.0
    for m, inc in enumerate(increments_, start=1):
        total += inc
        out[f"{year}-{m:02d}"] = total
    return out


def test_outlier_increment_warns_and_a_normal_one_does_not(cfg: Config) -> None:
    past = _ytd([10, 12, 9, 11, 10, 13, 12, 11])  # Jan..Aug
    normal = report(cfg, "2020-09", {1: past["2020-08"] + 11})
    spike = report(cfg, "2020-09", {1: past["2020-08"] + 400})
    assert outliers(normal, cfg, history(cfg, past)) == []
    [w] = outliers(spike, cfg, history(cfg, past))
    assert (w.rule, w.cell, w.row_no) == ("outlier", "E5", 1) and "400" in w.message_en


def test_outliers_skip_short_history(cfg: Config) -> None:
    past = _ytd([10, 12, 9])
    assert outliers(report(cfg, "2020-04", {1: past["2020-03"] + 900}), cfg, history(cfg, past)) == []
