"""The parser reads what clerks really send: every accepted fixture, cell by cell, plus the edge cases of cells."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from config import Config
from contracts.parsed import ParsedReport
from fupin.demo.report_fixtures import MONTH, catalogue, write_fixture
from fupin.demo.reports import REMARK, report_values
from tasks.report.cells import month_in_text, parse_date, parse_value
from tasks.report.parse import parse_report


@pytest.fixture(scope="module")
def written(cfg: Config, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("fixtures")
    return {fx.name: write_fixture(cfg, fx, out) for fx in catalogue(cfg)}


def parsed(path: Path, cfg: Config) -> ParsedReport:
    return parse_report(path.read_bytes(), path.name, cfg)


ACCEPTED = [fx for fx in catalogue(__import__("config").load_config()) if not fx.errors]


@pytest.mark.parametrize("fx", ACCEPTED, ids=lambda fx: fx.name)
def test_accepted_fixture_parses_cell_by_cell(fx, cfg: Config, written: dict[str, Path]) -> None:
    p = parsed(written[fx.name], cfg)
    unit = cfg.unit(fx.unit)
    assert p.issues == []
    assert (p.unit, p.month, p.form_code) == (unit, MONTH, unit.form_code)
    expected = report_values(cfg, unit, MONTH).set_index("row_no")
    got = p.cells.set_index(["row_no", "region"])["value"]
    assert len(got) == len(expected) * len(cfg.columns(unit.form_code))
    for row_no, rec in expected.iterrows():
        for column in cfg.columns(unit.form_code):
            want = fx.values.get((row_no, column), rec[column])
            value = got[(row_no, column)]
            if want is None:
                assert pd.isna(value), (row_no, column, value)
            else:
                assert value == pytest.approx(want, abs=1e-9), (row_no, column)
    if REMARK in expected:
        assert p.remarks == {n: r for n, r in expected[REMARK].dropna().items()}


def test_blank_and_dash_are_not_reported_but_zero_is_zero(cfg: Config, written: dict[str, Path]) -> None:
    cells = parsed(written["not_reported_and_zero"], cfg).cells.set_index(["row_no", "region"])["value"]
    assert cells.loc[2].isna().all()
    assert (cells.loc[3] == 0).all()


@pytest.mark.parametrize(
    "name, source",
    [
        ("sent_on_text_cn", "月份"),
        ("sent_on_text_dots", "月份"),
        ("sent_on_retyped", "报送时间"),
        ("retyped_表3", "file name"),
        ("alias_no_marker", "file name"),
        ("good_表3", "marker"),
    ],
)
def test_month_and_sent_on_are_found_without_the_marker(
    name: str, source: str, cfg: Config, written: dict[str, Path]
) -> None:
    p = parsed(written[name], cfg)
    assert (p.month, p.month_source) == (MONTH, source)
    assert p.sent_on in (dt.date(2020, 10, 9), dt.date(2020, 10, 8))


def test_unit_from_alias_when_there_is_no_marker(cfg: Config, written: dict[str, Path]) -> None:
    p = parsed(written["alias_no_marker"], cfg)
    assert (p.unit_text, p.unit.code) == ("市人社局", "hr-social-security")


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice converts the fixture to a real .xls")
def test_old_xls_is_read_with_calamine(cfg: Config, written: dict[str, Path], tmp_path: Path) -> None:
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "xls", "--outdir", str(tmp_path), str(written["good_表1"])],
        check=True,
        capture_output=True,
        timeout=120,
    )
    xls = next(tmp_path.glob("*.xls"))
    p, good = parsed(xls, cfg), parsed(written["good_表1"], cfg)
    assert p.issues == [] and (p.unit, p.month) == (good.unit, good.month)
    pd.testing.assert_series_equal(p.cells["value"], good.cells["value"])


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice recalculates and caches the formulas")
def test_formulas_with_cached_values_read_the_cache(cfg: Config, written: dict[str, Path], tmp_path: Path) -> None:
    src = tmp_path / "src.xlsx"
    shutil.copy(written["formulas_uncached"], src)
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "xlsx", "--outdir", str(tmp_path / "out"), str(src)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    from openpyxl import load_workbook

    from tasks.report.workbook import read_grids

    saved = tmp_path / "out" / "src.xlsx"
    assert load_workbook(saved)["表1"]["E5"].value.startswith("=SUM(")
    assert load_workbook(saved, data_only=True)["表1"]["E5"].value is not None
    [grid] = [g for g in read_grids(saved.read_bytes(), ".xlsx") if g.name == "表1"]
    assert (5, 5) not in grid.formulas  # the cached value is used, nothing left to compute
    p, good = parsed(saved, cfg), parsed(written["good_表1"], cfg)
    assert p.issues == []
    pd.testing.assert_series_equal(p.cells["value"], good.cells["value"])


@pytest.mark.parametrize(
    "data, name, rule",
    [
        (b"", "a.xlsx", "empty_file"),
        (b"just text", "a.xls", "not_a_workbook"),
    ],
)
def test_unreadable_files_are_refused_clearly(data: bytes, name: str, rule: str, cfg: Config) -> None:
    p = parse_report(data, name, cfg)
    assert [i.rule for i in p.issues] == [rule] and p.issues[0].message_en


def test_a_workbook_without_the_table_says_so(cfg: Config, tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active["A1"] = "hello"
    wb.save(tmp_path / "x.xlsx")
    p = parsed(tmp_path / "x.xlsx", cfg)
    assert [i.rule for i in p.issues] == ["no_table"]
    assert "序号" in p.issues[0].message_zh and cfg.total_column in p.issues[0].message_en


@pytest.mark.parametrize(
    "raw, fmt, kind, value",
    [
        ("1,234", None, "count", 1234.0),
        (" 56 ", None, "count", 56.0),
        ("１２３", None, "count", 123.0),
        ("１，２３４．５", None, "money", 1234.5),
        (0.85, "0%", "rate", 85.0),
        (85, '0.00"%"', "rate", 85.0),
        ("85%", None, "rate", 85.0),
        (0.85, "0%", "count", 0.85),
        ("—", None, "count", None),
        ("-", None, "count", None),
        ("/", None, "count", None),
        ("无", None, "count", None),
        ("", None, "count", None),
        (None, None, "count", None),
        (0, None, "count", 0.0),
    ],
)
def test_parse_value(raw, fmt, kind, value) -> None:
    got = parse_value(raw, fmt, kind)
    assert got.problem is None and got.value == (pytest.approx(value) if value is not None else None)


@pytest.mark.parametrize("raw", ["abc", "1,23", "12 3 4x", dt.date(2020, 1, 1)])
def test_unreadable_values_are_problems(raw) -> None:
    assert parse_value(raw, None, "count").problem == "not_a_number"


@given(st.integers(min_value=0, max_value=10**12))
def test_grouped_and_full_width_numbers_read_back(n: int) -> None:
    full = str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    for text in (f"{n:,}", f"  {n} ", full):
        assert parse_value(text, None, "count").value == n


@pytest.mark.parametrize(
    "text, month",
    [
        ("2020-09_朝阳.xlsx", "2020-09"),
        ("朝阳202009", "2020-09"),
        ("2020年9月报表", "2020-09"),
        ("２０２０年１０月", "2020-10"),
        ("朝阳区报表", None),
        ("20201", None),
    ],
)
def test_month_in_text(text: str, month: str | None) -> None:
    assert month_in_text(text) == month


@pytest.mark.parametrize(
    "raw",
    [
        dt.date(2020, 10, 9),
        dt.datetime(2020, 10, 9, 15),
        "2020年10月9日",
        "2020.10.9",
        "2020-10-09",
        " 2020 年 10 月 9 日 ",
    ],
)
def test_sent_on_forms(raw) -> None:
    assert parse_date(raw) == dt.date(2020, 10, 9)
