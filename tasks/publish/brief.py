"""The one-page A4 brief (简报) for the monthly 调度会: figures in, PDF and PNG bytes out (matplotlib, Agg)."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

from matplotlib import font_manager, rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from config import Config
from core.errors import CannotWork
from tasks.publish.brief_charts import draw_charts
from tasks.publish.brief_data import NO_BASELINE, BriefFigures

A4_INCHES = (8.27, 11.69)
PNG_DPI = 150
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK", "Noto Serif CJK SC", "Noto Serif CJK")
INK, MUTED, RULE = "#1a1a1a", "#5a5a5a", "#b0b0b0"


@dataclass(frozen=True)
class BriefFiles:
    pdf: bytes
    png: bytes


def brief_file_name(cfg: Config, month: str, version: int, suffix: str) -> str:
    """E.g. 北京市扶贫支援重点数据报告表_简报_2020-09_v1.pdf, beside the workbook of the same version."""
    return f"{cfg.report_title}_简报_{month}_v{version}.{suffix}"


def _known_cjk() -> str | None:
    names = {f.name for f in font_manager.fontManager.ttflist}
    for wanted in CJK_FAMILIES:
        found = sorted(n for n in names if n.startswith(wanted))
        if found:
            return found[0]
    return None


class MissingFont(CannotWork):
    """No CJK font is installed: the brief cannot be drawn (the workbook can)."""


def cjk_family() -> str:
    """A CJK font family matplotlib knows (Debian's fonts-noto-cjk), or CannotWork naming the package."""
    family = _known_cjk()
    if family is None:  # matplotlib's font cache may predate the font's install: look on disk once
        for path in font_manager.findSystemFonts():
            if Path(path).name.startswith(("NotoSansCJK", "NotoSerifCJK")):
                font_manager.fontManager.addfont(path)
        family = _known_cjk()
    if family is not None:
        return family
    raise MissingFont(
        "no CJK font for the brief: install Debian's fonts-noto-cjk (apt-get install fonts-noto-cjk) / "
        "简报需要中文字体：请安装 fonts-noto-cjk"
    )


def _amount(value: float | None, unit: str) -> str:
    if value is None or math.isnan(value):  # no unit reported it yet
        return "—"
    digits = 2 if unit == "亿元" else 0
    return f"{value:,.{digits}f}{unit}"


def _rule(fig: Figure, y: float, color: str = RULE, lw: float = 0.6) -> None:
    fig.add_artist(Line2D([0.06, 0.94], [y, y], color=color, lw=lw))


def _table(
    fig: Figure, top: float, headers: list[str], rows: list[list[str]], xs: list[float], indent: float = 0.0
) -> float:
    """Rows of text at column positions `xs` (figure fraction) under a ruled header; a one-cell row is a group
    heading, the rows under it indented by `indent`. Returns the y below the last row."""
    step = 0.0172
    for x, h in zip(xs, headers, strict=True):
        fig.text(x, top, h, fontsize=8.5, color=MUTED, weight="bold", va="top")
    _rule(fig, top - 0.015)
    y = top - 0.021
    for row in rows:
        if len(row) == 1:
            fig.text(xs[0], y, row[0], fontsize=8.5, color=MUTED, va="top")
        else:
            for i, (x, cell) in enumerate(zip(xs, row, strict=True)):
                fig.text(x + (indent if i == 0 else 0), y, cell, fontsize=8.5, color=INK, va="top")
        y -= step
    return y


def _heading(fig: Figure, y: float, text: str) -> None:
    fig.text(0.06, y, text, fontsize=11.5, weight="bold", color=INK, va="top")


def _target_rows(b: BriefFigures) -> list[list[str]]:
    """Each target's name as a group heading, then its indicators: year-to-date value, goal, progress."""
    rows: list[list[str]] = []
    previous = None
    for t in b.targets:
        if t.target != previous:
            rows.append([t.target])
        previous = t.target
        goal = _amount(t.goal, t.measure_unit) if t.goal is not None else NO_BASELINE
        progress = f"{t.progress:.1%}" if t.progress is not None else "—"
        rows.append([t.indicator, _amount(t.value, t.measure_unit), goal, progress])
    return rows


def build_figure(b: BriefFigures, title: str) -> Figure:
    """The brief's page: title, key figures against targets, reporting progress, the largest increments, 4 charts."""
    fig = Figure(figsize=A4_INCHES)
    FigureCanvasAgg(fig)  # the Agg canvas, never pyplot: no GUI backend, no global figure list
    fig.text(0.06, 0.968, f"{title} 月度简报", fontsize=16, weight="bold", color=INK, va="top")
    stamp = f"{b.month[:4]}年{int(b.month[5:])}月 · 第{b.version}版 · 截至{b.as_of:%Y年%m月%d日 %H:%M}"
    fig.text(0.06, 0.942, stamp, fontsize=9.5, color=MUTED, va="top")
    _rule(fig, 0.925, INK, 1.2)

    _heading(fig, 0.912, "一、重点指标与目标（全市累计）")
    cols = [0.06, 0.55, 0.70, 0.85]
    y = _table(fig, 0.888, ["指标", "本年累计", "目标", "完成进度"], _target_rows(b), cols, indent=0.015)

    _heading(fig, y - 0.008, "二、报送进度")
    kinds = "；".join(f"{k.label} {k.expected - k.missing}/{k.expected}" for k in b.by_kind)
    lines = [
        f"已报 {b.reported}/{b.expected} 个单位，按时 {b.on_time} 个，逾期 {b.reported - b.on_time} 个（{kinds}）。",
        f"未报：{'、'.join(b.missing_units) if b.missing_units else '无'}",
    ]
    for i, line in enumerate(lines):
        fig.text(0.06, y - 0.034 - i * 0.0185, line, fontsize=9, color=INK, va="top")
    y -= 0.034 + len(lines) * 0.0185 + 0.006

    _heading(fig, y, "三、本月环比增幅最大的5项指标（全市合计）")
    rows = [
        [i.label, f"+{_amount(i.increment, i.measure_unit)}", _amount(i.value, i.measure_unit), f"+{i.growth:.1%}"]
        for i in b.increments
    ] or [["本月无可比较的上月数据"]]
    y = _table(fig, y - 0.024, ["指标", "本月新增", "本年累计", "环比增幅"], rows, cols)

    draw_charts(fig, b, bottom=0.07, top=y - 0.03)
    note = "数据来源：各填报单位报送的当前版本，北京市扶贫支援办汇总。环比增幅 = 本月新增 ÷ 上月末累计。"
    fig.text(0.06, 0.014, note, fontsize=7, color=MUTED)
    return fig


def render_brief(b: BriefFigures, title: str, dpi: int = PNG_DPI) -> BriefFiles:
    """The brief as PDF and PNG bytes; the same figures give the same bytes (no creation date, no random ids)."""
    family = cjk_family()
    # Type 3 fonts: text stays extractable (pdftotext) and OpenType CJK fonts embed cleanly (subset).
    with rc_context({"font.family": [family], "pdf.fonttype": 3, "axes.unicode_minus": False}):
        fig = build_figure(b, title)
        pdf, png = io.BytesIO(), io.BytesIO()
        fig.savefig(pdf, format="pdf", metadata={"CreationDate": None, "ModDate": None})
        fig.savefig(png, format="png", dpi=dpi, metadata={"Software": None})
    return BriefFiles(pdf.getvalue(), png.getvalue())


def write_brief(files: BriefFiles, cfg: Config, month: str, version: int, out_dir: Path) -> tuple[Path, Path]:
    """Write the brief's PDF and PNG beside the workbook; (pdf path, png path)."""
    paths = []
    for suffix, data in (("pdf", files.pdf), ("png", files.png)):
        path = out_dir / brief_file_name(cfg, month, version, suffix)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        paths.append(path)
    return paths[0], paths[1]
