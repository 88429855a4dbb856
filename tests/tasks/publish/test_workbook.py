"""The consolidated workbook against the warehouse: sums cell by cell, weighted rates, increments, and its hygiene."""

from __future__ import annotations

import math
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import Engine, text

from config import Config
from tasks.publish.content import gather
from tasks.publish.forms import FIRST_DATA_ROW, LEAD_COLUMNS, summary_sheet_name
from tasks.publish.workbook import write_publication
from tasks.xlsx.style import escape_text
from tests.publish_fixture import (
    FORMULA_REMARK,
    LATE,
    MISSING,
    MONTH,
    PREVIOUS,
    REJECTED,
    load_month,
    month_warehouse,
    unit_values,
)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, cfg: Config) -> tuple[Engine, Path]:
    """One SQLite warehouse holding the month, and the workbook written from it (built once for this module)."""
    folder = tmp_path_factory.mktemp("publish")
    engine = month_warehouse(folder, cfg)
    path = write_publication(folder / "汇总.xlsx", cfg, gather(engine, cfg, MONTH), 1)
    yield engine, path
    engine.dispose()


def _cell(ws, row_no: int, column: str, increment: bool = False):
    headers = [c.value for c in ws[FIRST_DATA_ROW]]
    label = f"{column}\n本月新增" if increment else column
    return ws.cell(FIRST_DATA_ROW + row_no, headers.index(label) + 1).value


def test_summary_equals_the_sum_of_units_cell_by_cell(published, cfg: Config) -> None:
    engine, path = published
    wb = openpyxl.load_workbook(path)
    checked = 0
    for form in cfg.forms:
        ws = wb[summary_sheet_name(form.code)]
        for ind in (r for r in form.rows if r.kind != "rate"):
            for col in cfg.columns(form):
                values = [v for v in unit_values(engine, form.code, ind.row_no, col, MONTH).values() if v is not None]
                got = _cell(ws, ind.row_no, col)
                assert ws.cell(FIRST_DATA_ROW + ind.row_no, 1).value == ind.row_no
                assert got == pytest.approx(sum(values), abs=1e-6) if values else got is None, (
                    form.code,
                    ind.row_no,
                    col,
                )
                checked += 1
    assert checked > 400


def test_rate_rows_are_the_weighted_mean_with_their_weight_row(published, cfg: Config) -> None:
    engine, path = published
    wb = openpyxl.load_workbook(path)
    for form in cfg.forms:
        ws = wb[summary_sheet_name(form.code)]
        for ind in (r for r in form.rows if r.kind == "rate"):
            for col in cfg.columns(form):
                rates = unit_values(engine, form.code, ind.row_no, col, MONTH)
                weights = unit_values(engine, form.code, ind.weight_row, col, MONTH)
                pairs = [(r, weights[u]) for u, r in rates.items() if r is not None and weights.get(u) is not None]
                expected = sum(r * w for r, w in pairs) / sum(w for _, w in pairs)
                assert _cell(ws, ind.row_no, col) == pytest.approx(expected), (form.code, ind.row_no, col)
                assert _cell(ws, ind.row_no, col, increment=True) is None
                plain = sum(r for r, _ in pairs) / len(pairs)
                assert not math.isclose(expected, plain) or len({r for r, _ in pairs}) == 1


def test_increment_is_this_month_minus_the_previous_for_units_in_both(published, cfg: Config) -> None:
    engine, path = published
    ws = openpyxl.load_workbook(path)[summary_sheet_name("表2")]
    now = unit_values(engine, "表2", 1, "合计", MONTH)
    before = unit_values(engine, "表2", 1, "合计", PREVIOUS)
    assert "grain" in before and "grain" not in now
    expected = sum(v - before[u] for u, v in now.items())
    assert _cell(ws, 1, "合计", increment=True) == pytest.approx(expected)


def test_status_sheet_lists_missing_late_and_rejected(published, cfg: Config) -> None:
    _, path = published
    ws = openpyxl.load_workbook(path)["报送情况"]
    rows = {r[1]: r for r in ws.iter_rows(values_only=True) if r[1] in {u.name for u in cfg.units}}
    assert len(rows) == len(cfg.units)
    for code in MISSING:
        assert rows[cfg.unit(code).name][2] == "未报送"
    assert rows[cfg.unit(LATE).name][6] == "逾期"
    assert rows[cfg.unit(REJECTED).name][7] == 1 and rows[cfg.unit(REJECTED).name][6] == "按时"
    overall = next(r for r in ws.iter_rows(values_only=True) if r[0] == "全部")
    n = len(cfg.units)
    assert overall[1:6] == (n, n - 3, pytest.approx((n - 3) / n), n - 4, pytest.approx((n - 4) / n))


def test_text_that_looks_like_a_formula_is_escaped_and_no_cell_holds_a_formula(published, cfg: Config) -> None:
    _, path = published
    ws = openpyxl.load_workbook(path)[summary_sheet_name("表3")]
    remark = ws.cell(FIRST_DATA_ROW + 1, len(LEAD_COLUMNS) + 2).value
    assert remark.startswith(f"{cfg.unit('hotan').name}：")
    detail = openpyxl.load_workbook(path)["表3 明细"]
    texts = [c.value for row in detail.iter_rows() for c in row if isinstance(c.value, str)]
    assert escape_text(FORMULA_REMARK) in texts and escape_text(FORMULA_REMARK).startswith("'=")
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and not any(b"<f>" in z.read(n) or b"<f " in z.read(n) for n in sheets)
        assert any(n.startswith("xl/charts/chart") for n in z.namelist())
        assert "宋体".encode() in z.read("xl/styles.xml")


def test_every_sheet_prints_a4_landscape_with_repeated_headers_and_frozen_panes(published) -> None:
    _, path = published
    wb = openpyxl.load_workbook(path)
    expected = {
        "封面",
        "表1 汇总",
        "表2 汇总",
        "表3 汇总",
        "表1 明细",
        "表2 明细",
        "表3 明细",
        "附件1",
        "报送情况",
        "数据问题",
        "目标进度",
        "核对",
        "消费扶贫图",
    }
    assert expected <= set(wb.sheetnames)
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == "9", ws.title
        assert ws.print_title_rows and (ws.freeze_panes or ws.title == "封面"), ws.title
        assert ws.page_setup.fitToWidth in (None, 1) and ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.oddFooter.center.text == "第 &P 页，共 &N 页", ws.title
    assert wb.sheetnames[0] == "封面"


def test_reconciliation_and_annex_come_from_the_labor_records(published, cfg: Config) -> None:
    engine, path = published
    wb = openpyxl.load_workbook(path)
    recon = {r[0]: r for r in wb["核对"].iter_rows(values_only=True) if r[0] in cfg.region_names}
    reported = sum(
        v
        for f, row in (("表1", 33), ("表2", 15))
        for v in unit_values(engine, f, row, "河北", MONTH).values()
        if v is not None
    )
    assert recon["河北"][1] == 19 and recon["河北"][-3] == pytest.approx(reported)
    assert recon["河北"][-2] == pytest.approx(reported - 19)
    annex = [r for r in wb["附件1"].iter_rows(values_only=True)]
    assert annex[3][:2] == ("朝阳区", 35)  # central/western origins only: 内蒙古 30 + 四川 5, largest first
    assert ("河北省", "保定市", "阜平县", 7) in annex


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")), reason="LibreOffice not installed")
def test_libreoffice_opens_it_headless(published, tmp_path: Path) -> None:
    _, path = published
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    done = subprocess.run(
        [
            exe,
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(path),
        ],
        capture_output=True,
        timeout=180,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    pdf = tmp_path / f"{path.stem}.pdf"
    assert pdf.is_file() and pdf.stat().st_size > 10_000, done.stdout + done.stderr


def test_gather_reads_the_same_on_sqlite_and_postgresql(engine: Engine, cfg: Config) -> None:
    load_month(engine, cfg)
    content = gather(engine, cfg, MONTH)
    total = unit_values(engine, "表1", 31, "合计", MONTH)
    assert content.consolidated["表1"].values.loc[31, "合计"] == pytest.approx(sum(total.values()))
    assert int(content.rates.iloc[-1]["reported"]) == len(cfg.units) - len(MISSING)
    assert content.reconciliation.set_index("region").loc["内蒙古", "hr"] == 30


def test_the_workbooks_rates_agree_with_v_completeness(engine: Engine, cfg: Config) -> None:
    """Expected, reported and on time, overall and per form: pandas for the workbook, SQL for the analysts' view."""
    load_month(engine, cfg)
    rates = gather(engine, cfg, MONTH).rates.set_index("scope")
    with engine.connect() as conn:
        view = pd.DataFrame(
            conn.execute(text("SELECT * FROM v_completeness WHERE month = :m"), {"m": MONTH}).mappings().all()
        )
    view[["reported", "on_time"]] = view[["reported", "on_time"]].astype(int)
    overall, first = rates.loc["全部"], view.iloc[0]
    assert (overall["expected"], overall["reported"], overall["on_time"]) == (
        int(first["n_expected"]),
        int(first["n_reported"]),
        int(first["n_on_time"]),
    )
    assert 0 < overall["on_time"] < overall["reported"] < overall["expected"], "the month has late and missing units"
    assert 100 * overall["reporting_rate"] == pytest.approx(float(first["reporting_rate"]))
    assert 100 * overall["on_time_rate"] == pytest.approx(float(first["on_time_rate"]))
    for form_code, part in view.groupby("form_code"):
        mine = rates.loc[form_code]
        assert (mine["expected"], mine["reported"], mine["on_time"]) == (
            len(part),
            part["reported"].sum(),
            part["on_time"].sum(),
        ), form_code
        assert 100 * mine["reporting_rate"] == pytest.approx(float(part["form_reporting_rate"].iloc[0])), form_code


def test_the_form_sheets_keep_the_templates_layout(published, cfg: Config) -> None:
    """Header row, lead columns and month row where the unit's template has them (config/layout.py)."""
    from config.layout import LAYOUT
    from tasks.report.templates import build_template

    _, path = published
    wb = openpyxl.load_workbook(path)
    form = cfg.form("表1")
    template = build_template(cfg, cfg.units_of_form(form.code)[0], MONTH)[form.code]
    for name, lead in ((summary_sheet_name(form.code), 0), (f"{form.code} 明细", 1)):
        ws = wb[name]
        header = [c.value for c in ws[LAYOUT.header_row]]
        assert (
            header[lead : lead + 4] == [c.value for c in template[LAYOUT.header_row]][:4] == list(LAYOUT.lead_columns)
        )
        assert str(ws.cell(LAYOUT.month_row, 1).value).startswith(template.cell(LAYOUT.month_row, 1).value)
    assert wb[f"{form.code} 明细"].cell(LAYOUT.header_row, 1).value == LAYOUT.unit_label
