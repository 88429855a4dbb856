"""The month's workbook as a leader receives it: version 2 after two late units and a correction, rendered once by
LibreOffice; every sheet one page wide with its header on each page, no text wider than its column, numbers in the
format of their measure unit, the cover counted as v_completeness counts, and 变更's summary first."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine, text

from config import Config
from config.model import MEASURE_KINDS
from fupin.demo.facts import insert_report, received_on
from fupin.demo.reports import report_values
from tasks.publish.content import gather
from tasks.publish.diff import diff_workbooks
from tasks.publish.forms import FIRST_DATA_ROW, summary_sheet_name
from tasks.publish.workbook import write_publication
from tasks.xlsx.style import NUM_FORMATS
from tests.libreoffice import convert
from tests.publish_fixture import MISSING, MONTH, month_warehouse
from tests.xlsx_fit import overflowing, page_sizes, pdf_pages

LATE_UNITS = ("grain", "lhasa")  # two of MISSING arrive after version 1
CORRECTED = "dongcheng"


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, cfg: Config) -> tuple[Engine, Path]:
    """Version 1, then two late units and one correction, then version 2 with its 变更 sheet."""
    folder = tmp_path_factory.mktemp("print")
    engine = month_warehouse(folder, cfg)
    first = write_publication(folder / "v1.xlsx", cfg, gather(engine, cfg, MONTH), 1)
    late = received_on(cfg, cfg.deadline(MONTH) + dt.timedelta(days=5))
    values = report_values(cfg, cfg.unit(CORRECTED), MONTH)
    values.loc[values["row_no"] == 1, ["合计", "内蒙古"]] += 100
    with engine.begin() as conn:
        for code in LATE_UNITS:
            insert_report(conn, cfg, cfg.unit(code), MONTH, late)
        insert_report(conn, cfg, cfg.unit(CORRECTED), MONTH, late, values=values)
    content = gather(engine, cfg, MONTH)
    draft = write_publication(folder / "draft.xlsx", cfg, content, 2)
    path = write_publication(folder / "v2.xlsx", cfg, content, 2, diff_workbooks(first, draft))
    yield engine, path
    engine.dispose()


def _markers(cfg: Config, wb: openpyxl.Workbook) -> list[tuple[str, str]]:
    """Each sheet and a text only its pages carry (a repeated title, or its first page's)."""
    found = []
    for ws in wb.worksheets:
        first = next(str(c.value) for row in ws.iter_rows(max_row=3) for c in row if isinstance(c.value, str))
        subtitle = ws.cell(2, 1).value if ws.title.endswith(("汇总", "明细")) else None
        found.append((ws.title, str(subtitle or first).replace("　", " ")))
    return found


def _last_header(ws) -> str:
    """The first line of the last header cell of the rows printed on every page."""
    rows = [int(n) for n in re.findall(r"\d+", ws.print_title_rows)]
    header = [c.value for c in ws[rows[-1]] if c.value is not None]
    return str(header[-1]).split("\n")[0]


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice not installed")
def test_each_sheet_prints_one_page_wide_with_its_header_on_every_page(published, cfg: Config, tmp_path) -> None:
    _, path = published
    run = convert(path, "pdf", tmp_path, profile=tmp_path / "lo")
    assert run.returncode == 0, run.stderr
    pdf = tmp_path / f"{path.stem}.pdf"
    pages = [" ".join(p.split()) for p in pdf_pages(pdf)]
    assert {(round(w), round(h)) for w, h in page_sizes(pdf)} == {(842, 595)}, "A4 landscape throughout"
    wb = openpyxl.load_workbook(path)
    markers = _markers(cfg, wb)
    by_sheet: dict[str, list[str]] = {}
    at = -1
    for page in pages:  # a page starts the next sheet when it carries that sheet's title
        if at + 1 < len(markers) and markers[at + 1][1] in page:
            at += 1
        by_sheet.setdefault(markers[at][0], []).append(page)
    assert list(by_sheet) == wb.sheetnames, "every sheet printed, in order"
    one_page = ["封面", summary_sheet_name("表1"), summary_sheet_name("表2"), "目标进度", "核对", "消费扶贫图"]
    assert {name: len(by_sheet[name]) for name in one_page} == dict.fromkeys(one_page, 1)
    for ws in wb.worksheets:
        last = _last_header(ws)
        missing = [n for n, page in enumerate(by_sheet[ws.title], 1) if last not in page]
        assert not missing, f"{ws.title}: last column {last!r} not on page(s) {missing}: not fitted to width"
    assert f"第 1 页，共 {len(pages)} 页" in pages[0]


def test_no_text_is_wider_than_its_column(published) -> None:
    _, path = published
    wb = openpyxl.load_workbook(path)
    assert [bad for ws in wb.worksheets for bad in overflowing(ws)] == []
    header = wb[summary_sheet_name("表1")].row_dimensions[FIRST_DATA_ROW].height
    assert header and header >= 30, "本月新增 headers take two lines in a row tall enough for them"


def test_numbers_take_the_format_of_their_measure_unit(published, cfg: Config) -> None:
    _, path = published
    wb = openpyxl.load_workbook(path)
    checked = {kind: 0 for kind in ("count", "money", "rate")}
    for name in ("表1 汇总", "表2 明细", "表3 汇总"):
        ws = wb[name]
        labels = [c.value for c in ws[FIRST_DATA_ROW]]
        unit_col = labels.index("单位")
        for row in ws.iter_rows(min_row=FIRST_DATA_ROW + 1):
            unit = row[unit_col].value
            for cell in row[unit_col + 1 :]:
                measured = unit in MEASURE_KINDS and labels[cell.column - 1] != "采用版本"
                if isinstance(cell.value, (int, float)) and measured:
                    assert cell.number_format == NUM_FORMATS[MEASURE_KINDS[unit]], (name, cell.coordinate, unit)
                    checked[MEASURE_KINDS[unit]] += 1
    assert all(n > 20 for n in checked.values()), checked
    targets = wb["目标进度"]
    for row in targets.iter_rows(min_row=4, values_only=False):
        if row[2].value == "人":
            assert row[4].number_format == NUM_FORMATS["count"] and row[6].number_format == NUM_FORMATS["ratio"]
    changes = wb["变更"]
    persons = [r for r in changes.iter_rows(min_row=5) if r[6].value == "人" and isinstance(r[4].value, (int, float))]
    assert persons and all(r[4].number_format == NUM_FORMATS["count"] for r in persons)


def test_the_cover_counts_as_v_completeness_and_names_who_is_missing(published, cfg: Config) -> None:
    engine, path = published
    with engine.connect() as conn:
        view = conn.execute(text("SELECT * FROM v_completeness WHERE month = :m"), {"m": MONTH}).mappings().first()
    assert view is not None
    ws = openpyxl.load_workbook(path)["封面"]
    lines = [str(c.value) for row in ws.iter_rows(max_row=5) for c in row if c.value]
    status = next(line for line in lines if line.startswith("截至"))
    assert re.fullmatch(r"截至 \d+月\d+日 \d\d:\d\d 已报 \d+/\d+ 个单位，按时 \d+ 个", status)
    assert f"已报 {view['n_reported']}/{view['n_expected']} 个单位，按时 {view['n_on_time']} 个" in status
    still = [cfg.unit(c).name for c in MISSING if c not in LATE_UNITS]
    assert any(line.startswith("尚未报送") and all(n in line for n in still) for line in lines)
    version = next(line for line in lines if line.startswith("第2版"))
    assert all(cfg.unit(c).name in version for c in LATE_UNITS) and cfg.unit(CORRECTED).name in version
    assert "截至" not in str(openpyxl.load_workbook(path)[summary_sheet_name("表1")]["A3"].value)


def test_changes_sheet_summarises_first_then_lists_cells_with_integer_row_numbers(published, cfg: Config) -> None:
    _, path = published
    rows = list(openpyxl.load_workbook(path)["变更"].iter_rows(values_only=True))
    added = rows[1][0]
    assert added.startswith("新增：") and all(cfg.unit(c).name in added for c in LATE_UNITS)
    assert cfg.unit(CORRECTED).name in rows[2][0] and "（1个）" in rows[2][0]
    top = [r for r in rows[5:16] if isinstance(r[1], int)]
    assert len(top) == 10 and all(r[3] != "%" for r in top)
    listed = rows[rows.index(next(r for r in rows if r[0] == "工作表")) + 1 :]
    assert listed and not any(re.match(r"^\d+\.0 ", str(r[2])) for r in listed)
    corrected = [r for r in listed if r[0] == "表1 明细" and str(r[2]).startswith(cfg.unit(CORRECTED).name)]
    assert {r[3] for r in corrected} >= {"合计", "内蒙古"}
    assert all(r[6] == "人次" for r in corrected if r[3] != "采用版本")
    assert [r for r in corrected if r[3] == "合计"][0][5] - [r for r in corrected if r[3] == "合计"][0][4] == 100
    assert not any(r[0] == "封面" for r in listed), "the cover's time stamp is no change"
