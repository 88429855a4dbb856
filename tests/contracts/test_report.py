"""Each rule of the report contracts, on a real fixture workbook, gives exactly the located error expected."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from config import Config, load_config
from contracts.report import ReportValues, check_report
from fupin.demo.report_fixtures import catalogue, cell, write_fixture
from fupin.demo.reports import write_filled_report
from tasks.report.parse import parse_report

RECEIVED = dt.date(2020, 10, 9)
REJECTED = [fx for fx in catalogue(load_config()) if fx.errors]


@pytest.fixture(scope="module")
def written(cfg: Config, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("rule_fixtures")
    return {fx.name: write_fixture(cfg, fx, out) for fx in REJECTED}


def issues(path: Path, cfg: Config):
    return check_report(parse_report(path.read_bytes(), path.name, cfg), cfg, RECEIVED)


@pytest.mark.parametrize("fx", REJECTED, ids=lambda fx: fx.name)
def test_each_rule_gives_exactly_its_located_error(fx, cfg: Config, written: dict[str, Path]) -> None:
    found = issues(written[fx.name], cfg)
    assert sorted((i.rule, i.cell) for i in found) == sorted(fx.errors)
    for i in found:
        assert i.severity == "error" and i.file == written[fx.name].name and i.message_zh and i.message_en


def test_total_message_names_file_sheet_cell_row_indicator_value_and_rule(cfg: Config, written) -> None:
    [issue] = issues(written["total_not_sum"], cfg)
    unit = cfg.units_of_form("表1")[2]
    ind = cfg.form("表1").row(1)
    name = written["total_not_sum"].name
    where = f"{name} 表1!{cell(cfg, unit.code, 1, cfg.total_column)}"
    assert issue.line("zh") == f"{where} | 序号1 {ind.indicator} 合计 值“978” | 合计应等于各地区之和 977"
    assert (
        issue.line("en")
        == f"{where} | 序号1 {ind.indicator} 合计 value “978” | 合计 must equal the sum of the regions, 977"
    )


def test_parts_message_names_the_parent(cfg: Config, written) -> None:
    found = issues(written["parts_over_parent"], cfg)
    assert {i.row_no for i in found} == {29, 30}
    assert all("序号 28" in i.message_zh and "(其中)" in i.message_en for i in found)


def test_unknown_unit_names_the_text_and_the_fix(cfg: Config, written) -> None:
    [issue] = issues(written["unknown_unit"], cfg)
    assert "“朝阳区扶贫办公室”" in issue.message_zh and "config/units.yaml" in issue.message_en


def test_wrong_form_and_month_messages(cfg: Config, written) -> None:
    [wrong] = issues(written["wrong_form"], cfg)
    assert wrong.message_zh == f"{cfg.units_of_form('表1')[2].name}应填报表1,此文件是表2"
    [month] = issues(written["month_before_first"], cfg)
    assert month.message_en == f"2019-12 is not a reporting month ({cfg.calendar.first_month} to 2020-10)"


def _frame(regions: list[int], total: float) -> pd.DataFrame:
    rows = [{"row_no": 1, "region": "T", "value": total, "is_total": True}]
    rows += [{"row_no": 1, "region": f"r{n}", "value": float(v), "is_total": False} for n, v in enumerate(regions)]
    df = pd.DataFrame(rows)
    return df.assign(kind="count", parent_row=float("nan"), at_most_row=float("nan"))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=6), st.integers(-5, 5))
def test_total_rule_holds_exactly_when_total_is_the_sum(regions: list[int], off: int) -> None:
    assume(sum(regions) + off >= 0)
    df = _frame(regions, float(sum(regions) + off))
    if off == 0:
        ReportValues.validate(df, lazy=True)
        return
    with pytest.raises(pa.errors.SchemaErrors) as err:
        ReportValues.validate(df, lazy=True)
    assert set(err.value.failure_cases["check"]) == {"total_sum"}
    assert set(err.value.failure_cases["index"]) == {0}


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 10**8), min_size=2, max_size=6))
def test_money_sums_to_four_decimals_are_exact(units: list[int]) -> None:
    values = [u / 10_000 for u in units]
    df = _frame([0] * len(values), round(sum(units) / 10_000, 4))
    df.loc[1:, "value"] = values
    ReportValues.validate(df.assign(kind="money"), lazy=True)


@pytest.mark.parametrize(
    ("row_no", "value", "rule"),
    [
        (2, 10**14, "within_warehouse"),
        (2, 10**14 - 1, None),
        (4, 1.5e14, "within_warehouse"),
        (4, 99_999_999_999.5, None),
    ],
    ids=["count_10e14", "count_below", "money_too_large", "money_large_but_held"],
)
def test_figures_are_held_to_what_the_warehouse_column_keeps(
    row_no: int, value: float, rule: str | None, cfg: Config, tmp_path: Path
) -> None:
    unit = cfg.units_of_form("表3")[0]
    path = write_filled_report(cfg, unit, "2020-09", tmp_path / "big.xlsx", cells={(row_no, cfg.total_column): value})
    found = [(i.rule, i.cell) for i in issues(path, cfg)]
    assert found == ([(rule, cell(cfg, unit.code, row_no, cfg.total_column))] if rule else [])
