"""The rejection workbook: a problem list a clerk can act on (links to the cells, readable, one page wide) before the
unit's own sheet with the failing cells highlighted and explained."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from config import Config
from contracts.report import check_report
from fupin.demo.bad_files import good_report
from tasks.intake.highlight import HEADER_ROW, ISSUES_SHEET, highlight
from tasks.report.parse import parse_report
from tests.libreoffice import convert
from tests.xlsx_fit import overflowing, page_sizes, pdf_pages


@pytest.fixture(scope="module")
def rejected(tmp_path_factory: pytest.TempPathFactory, cfg: Config) -> tuple[Path, list]:
    """A real report with three wrong figures, checked by the contracts, and its highlighted workbook."""
    folder = tmp_path_factory.mktemp("highlight")
    bad = {(1, "合计"): 5, (10, "河北"): 250, (33, "内蒙古"): "=cmd|' /C calc'!A0"}
    src = good_report(cfg, folder / "朝阳区.xlsx", cells=bad)
    data = src.read_bytes()
    issues = check_report(parse_report(data, src.name, cfg), cfg, dt.date(2020, 10, 8))
    assert len([i for i in issues if i.cell]) >= 3
    out = folder / "朝阳区_标注.xlsx"
    out.write_bytes(highlight(data, ".xlsx", issues))
    return out, issues


def test_each_problem_links_to_its_own_cell_which_is_highlighted_and_explained(rejected) -> None:
    path, issues = rejected
    wb = load_workbook(path)
    assert wb.sheetnames[0] == ISSUES_SHEET and wb.active.title == ISSUES_SHEET
    ws = wb[ISSUES_SHEET]
    rows = list(ws.iter_rows(min_row=HEADER_ROW + 1))
    assert len(rows) == len(issues)
    for row, issue in zip(rows, issues, strict=True):
        if not issue.cell:
            continue
        link = row[1].hyperlink
        assert link is not None and link.location == f"'{issue.sheet}'!{issue.cell}" and not link.target
        target = wb[issue.sheet][issue.cell]
        assert target.fill.fgColor.rgb.endswith("FFC7CE") and issue.message_zh in target.comment.text
    formula = next(c for r in rows for c in r if isinstance(c.value, str) and c.value.startswith("=cmd"))
    assert formula.data_type == "s"


def test_the_list_is_readable_frozen_and_set_to_print_one_page_wide(rejected) -> None:
    path, _ = rejected
    ws = load_workbook(path)[ISSUES_SHEET]
    assert ws.freeze_panes == f"A{HEADER_ROW + 1}" and ws.print_title_rows == f"$1:${HEADER_ROW}"
    assert ws.page_setup.orientation == "landscape" and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
    assert overflowing(ws) == []
    assert all(ws.column_dimensions[c].width >= 6 for c in "ABCDEFGH")


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice not installed")
def test_libreoffice_prints_the_list_on_one_a4_landscape_page_whole(rejected, tmp_path: Path) -> None:
    path, issues = rejected
    wb = load_workbook(path)
    for name in wb.sheetnames[1:]:
        del wb[name]  # the list alone: the unit's form has its own print setup
    only = tmp_path / "list.xlsx"
    wb.save(only)
    run = convert(only, "pdf", tmp_path, profile=tmp_path / "lo")
    assert run.returncode == 0, run.stderr
    pdf = tmp_path / "list.pdf"
    pages = pdf_pages(pdf)
    assert len(pages) == 1 and page_sizes(pdf)[0][0] > page_sizes(pdf)[0][1], "one landscape page"
    text = pages[0]
    for issue in issues:
        assert issue.message_en.split()[0] in text
        if issue.cell:
            assert issue.cell in text
    assert "problem" in text and "第 1 页，共 1 页" in text
