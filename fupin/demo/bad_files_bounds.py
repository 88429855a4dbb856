"""Hostile report files about the warehouse's own bounds: a figure PostgreSQL's Numeric(18, 4) cannot hold."""

from __future__ import annotations

from pathlib import Path

from config import Config
from fupin.demo.reports import write_filled_report

MONTH = "2020-09"
HUGE = 10**14  # one more digit than fct_indicator_value.value keeps
HUGE_ROW = 2  # a count (个) row of 表3, which has no region columns, so no sum rule fires with it


def huge_figure(cfg: Config, path: Path, value: float = HUGE) -> Path:
    """A good 表3 report whose 合计 of 序号 2 is `value`."""
    unit = cfg.units_of_form("表3")[0]
    return write_filled_report(cfg, unit, MONTH, path, cells={(HUGE_ROW, cfg.total_column): value})


def bounds_files(cfg: Config, out: Path) -> list:
    """Write the bounds files into `out`; the BadFile entries saying which rule refuses each."""
    from fupin.demo.bad_files import BadFile

    huge_figure(cfg, out / "huge_figure.xlsx")
    return [BadFile("huge_figure.xlsx", "a count of 10^14, more than Numeric(18, 4) holds", "within_warehouse")]
