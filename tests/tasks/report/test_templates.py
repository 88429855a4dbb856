"""Blank templates read back with the rows, columns, marker and protections declared in config/."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from config import Config
from tasks.report.marker import MARKER_SHEET, Marker
from tasks.report.templates import FIRST_DATA_ROW, HEADER_ROW, header_texts, write_template
from tests.libreoffice import CSV_UTF8, convert


@pytest.fixture(scope="module")
def written(cfg: Config, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("templates")
    return {u.code: write_template(cfg, u, "2020-09", out) for u in cfg.units}


def test_one_template_per_unit(cfg: Config, written: dict[str, Path]) -> None:
    assert len(set(written.values())) == len(cfg.units)
    assert written["chaoyang"].name == "2020-09_表1_朝阳区.xlsx"


@pytest.mark.parametrize("code", ["chaoyang", "education", "hotan"])
def test_rows_and_columns_read_back(cfg: Config, written: dict[str, Path], code: str) -> None:
    unit = cfg.unit(code)
    form = cfg.form(unit.form_code)
    wb = CalamineWorkbook.from_path(str(written[code]))
    rows = wb.get_sheet_by_name(form.code).to_python()
    assert rows[HEADER_ROW - 1][: len(header_texts(cfg, form))] == header_texts(cfg, form)
    body = rows[FIRST_DATA_ROW - 1 : FIRST_DATA_ROW - 1 + len(form.rows)]
    assert [(int(r[0]), r[2], r[3]) for r in body] == [(i.row_no, i.indicator, i.measure_unit) for i in form.rows]
    footer = rows[FIRST_DATA_ROW - 1 + len(form.rows) + 1]
    assert footer[0] == "填报单位:" and footer[1] == unit.name and footer[4] == "报送时间:" and footer[5] == ""
    marker = Marker.from_rows(wb.get_sheet_by_name(MARKER_SHEET).to_python())
    assert marker == Marker(form.code, unit.code, "2020-09", cfg.template_version)


def test_input_cells_are_validated_and_everything_else_locked(cfg: Config, written: dict[str, Path]) -> None:
    wb = openpyxl.load_workbook(written["chaoyang"])
    ws = wb["表1"]
    assert wb[MARKER_SHEET].sheet_state == "veryHidden"
    assert ws.protection.sheet is True
    form = cfg.form("表1")
    by_kind = {dv.type + (dv.formula2 or ""): dv for dv in ws.data_validations.dataValidation}
    whole, money, rate = by_kind["whole"], by_kind["decimal"], by_kind["decimal100"]
    for ind in form.rows:
        r = FIRST_DATA_ROW + ind.row_no - 1
        cell = ws.cell(r, 5)
        assert cell.protection.locked is False
        dv = {"count": whole, "money": money, "rate": rate}[ind.kind]
        assert cell.coordinate in dv.sqref, (ind.key, cell.coordinate)
        assert ws.cell(r, 3).protection.locked is True
    assert whole.operator == "greaterThanOrEqual" and whole.formula1 == "0"
    assert (rate.formula1, rate.formula2) == ("0", "100")
    assert ws.cell(FIRST_DATA_ROW + 3, 5).number_format == "#,##0.0000"


def test_print_setup(written: dict[str, Path]) -> None:
    ws = openpyxl.load_workbook(written["hotan"])["表3"]
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
    assert ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
    assert ws.freeze_panes == f"E{FIRST_DATA_ROW}"


def test_the_package_is_well_formed(written: dict[str, Path]) -> None:
    with zipfile.ZipFile(written["chaoyang"]) as z:
        assert z.testzip() is None
        assert "xl/workbook.xml" in z.namelist()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_it_without_complaint(written: dict[str, Path], tmp_path: Path) -> None:
    src = tmp_path / "t.xlsx"
    shutil.copy(written["chaoyang"], src)
    run = convert(src, CSV_UTF8, tmp_path, profile=tmp_path / "lo")
    assert run.returncode == 0, run.stderr
    text = (tmp_path / "t.csv").read_text(encoding="utf-8")
    assert "区级领导调研对接人次" in text and "填报单位:" in text
