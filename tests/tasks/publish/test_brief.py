"""The one-page brief: one A4 page, text that extracts and matches the warehouse (read with plain SQL), four charts
that are drawn, the same bytes for the same figures, and a clear failure without a CJK font."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from sqlalchemy import Engine, func, select

from config import Config
from core.errors import CannotWork
from core.month import month_key
from tasks.publish import brief as brief_module
from tasks.publish.brief import build_figure, render_brief
from tasks.publish.brief_charts import CHART_TITLES
from tasks.publish.brief_data import BriefFigures, KindProgress, TargetLine, brief_figures
from tasks.publish.content import gather
from tests.publish_fixture import MISSING, MONTH, PREVIOUS, load_month, unit_values
from warehouse.schema import fct_submission

A4_POINTS = (595, 842)


@pytest.fixture
def figures(engine: Engine, cfg: Config) -> BriefFigures:
    load_month(engine, cfg)
    return brief_figures(engine, cfg, gather(engine, cfg, MONTH), 2)


@pytest.fixture
def pdf_text(figures: BriefFigures, cfg: Config, tmp_path: Path) -> str:
    path = tmp_path / "brief.pdf"
    path.write_bytes(render_brief(figures, cfg.report_title).pdf)
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M), info
    width, height = (float(x) for x in re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())  # type: ignore[union-attr]
    assert (round(width), round(height)) == A4_POINTS
    assert "CreationDate" not in info
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def _city(engine: Engine, cfg: Config, concept: str, month: str) -> float:
    """A concept's city-wide total: every unit's 合计 of every form that reports it, summed."""
    return sum(
        sum(v for v in unit_values(engine, i.form_code, i.row_no, cfg.total_column, month).values() if v is not None)
        for i in cfg.concepts[concept]
    )


def test_one_a4_page_whose_text_matches_the_warehouse(engine: Engine, cfg: Config, pdf_text: str) -> None:
    with engine.connect() as conn:
        reported = conn.execute(
            select(func.count(func.distinct(fct_submission.c.unit_key))).where(
                fct_submission.c.kind == "report",
                fct_submission.c.status == "accepted",
                fct_submission.c.month_key == month_key(MONTH),
            )
        ).scalar_one()
    assert reported == len(cfg.units) - len(MISSING)
    assert f"已报 {reported}/{len(cfg.units)} 个单位" in pdf_text
    for code in MISSING:
        assert cfg.unit(code).name in pdf_text
    aid = _city(engine, cfg, "consumption_aid_amount", MONTH)
    assert f"{aid:,.2f}亿元" in pdf_text and f"{aid / 200:.1%}" in pdf_text
    employed = _city(engine, cfg, "poor_employed_in_beijing", MONTH)
    assert f"{employed:,.0f}人" in pdf_text and "2019年基数待录入" in pdf_text


def test_the_five_increments_are_the_warehouse_month_on_month(
    engine: Engine, cfg: Config, figures: BriefFigures, pdf_text: str
) -> None:
    assert len(figures.increments) == 5
    assert [i.growth for i in figures.increments] == sorted((i.growth for i in figures.increments), reverse=True)
    for inc in figures.increments:
        form_code, row_no = inc.label.split(" ", 1)[0].split("·")
        now = unit_values(engine, form_code, int(row_no), cfg.total_column, MONTH)
        before = unit_values(engine, form_code, int(row_no), cfg.total_column, PREVIOUS)
        increment = sum(v - (before[code] or 0) for code, v in now.items() if v is not None)
        assert inc.increment == pytest.approx(increment)
        assert inc.growth == pytest.approx(increment / (sum(v for v in now.values() if v is not None) - increment))
        digits = 2 if inc.measure_unit == "亿元" else 0
        assert f"+{increment:,.{digits}f}{inc.measure_unit}" in pdf_text
        assert f"+{inc.growth:.1%}" in pdf_text


def test_four_charts_are_drawn(figures: BriefFigures, cfg: Config) -> None:
    fig = build_figure(figures, cfg.report_title)
    assert len(fig.axes) == 4
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles[:3] == list(CHART_TITLES[:3]) and titles[3].startswith("全年消费扶贫销售额")
    assert all(len(ax.patches) + len(ax.lines) >= 2 for ax in fig.axes), "each chart has bars or lines"
    png = imread(io.BytesIO(render_brief(figures, cfg.report_title, dpi=60).png))
    height, width = png.shape[:2]
    for ax in fig.axes:  # inside each chart's frame, ink (not white) covers a real share of the pixels
        box = ax.get_position()
        y0, y1 = int((1 - box.y1) * height), int((1 - box.y0) * height)
        region = png[y0:y1, int(box.x0 * width) : int(box.x1 * width), :3]
        assert np.mean(region.min(axis=2) < 0.9) > 0.03, ax.get_title(loc="left")


def test_the_same_figures_give_the_same_bytes(figures: BriefFigures, cfg: Config) -> None:
    first, second = render_brief(figures, cfg.report_title), render_brief(figures, cfg.report_title)
    assert first.pdf == second.pdf and first.png == second.png


def test_without_a_cjk_font_it_says_which_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(brief_module, "CJK_FAMILIES", ("No Such Font",))
    with pytest.raises(CannotWork, match="fonts-noto-cjk"):
        brief_module.cjk_family()


def test_a_first_month_with_little_reported_still_makes_one_page(cfg: Config, tmp_path: Path) -> None:
    """January, one unit in: no increments, no trend yet, a figure nobody reported, no target with progress."""
    lines = (TargetLine("全年消费扶贫销售额", "消费扶贫金额", "亿元", float("nan"), 200.0, None),)
    kinds = (KindProgress("各区", 16, 1, 0, 15),)
    empty = BriefFigures("2020-01", 1, dt.datetime(2020, 2, 3, 9, 30), 36, 1, 1, ("东城区",), kinds, lines, (), None)
    path = tmp_path / "brief.pdf"
    path.write_bytes(render_brief(empty, cfg.report_title).pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    assert "本月无可比较的上月数据" in text and "暂无数据" in text and "nan" not in text
    assert len(build_figure(empty, cfg.report_title).axes) == 4
