"""The brief's four charts: target progress, reporting by kind of unit, the largest increments, the target's trend."""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from tasks.publish.brief_data import BriefFigures

BLUE, GREEN, ORANGE, GREY, INK = "#2f6db5", "#3a9a5b", "#e08a2e", "#c9c9c9", "#1a1a1a"
LABEL_CHARS = 11
CHART_TITLES = ("目标完成进度", "各类单位报送情况", "环比增幅前5项", "消费扶贫累计与全年目标")


def _short(text: str, n: int = LABEL_CHARS) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _style(ax: Axes, title: str) -> None:
    ax.set_title(title, fontsize=10, weight="bold", color=INK, loc="left")
    ax.tick_params(labelsize=7.5, length=2)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=8.5, color="#5a5a5a", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def target_progress(ax: Axes, b: BriefFigures) -> None:
    """Progress of each target that has a goal, with the share of the year passed as the pace line."""
    _style(ax, CHART_TITLES[0])
    done = [t for t in b.targets if t.progress is not None]
    pending = len(b.targets) - len(done)
    if not done:
        _empty(ax, "暂无可计算进度的目标")
        return
    labels = [_short(t.indicator) for t in done][::-1]
    values = [100 * (t.progress or 0) for t in done][::-1]
    ax.barh(labels, [100] * len(values), color=GREY, height=0.5)
    ax.barh(labels, values, color=[GREEN if v >= 100 * b.year_share else ORANGE for v in values], height=0.5)
    ax.set_ylim(-0.8, max(len(values), 3) - 0.2)  # one target keeps a bar's width, not the whole chart
    pace = ax.get_xaxis_transform()
    ax.axvline(100 * b.year_share, color=INK, lw=0.8, ls="--")
    ax.text(100 * b.year_share, 0.97, f" 时间进度 {b.year_share:.0%}", fontsize=7, va="top", transform=pace)
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:.1f}%", va="center", fontsize=8)
    ax.set_xlim(0, max(110.0, max(values) * 1.25))
    ax.set_xlabel("完成进度 %", fontsize=7.5)
    if pending:
        note = f"另有{pending}项待录入2019年基数"
        ax.text(1.0, 1.03, note, fontsize=7, color="#5a5a5a", ha="right", va="bottom", transform=ax.transAxes)


def reporting(ax: Axes, b: BriefFigures) -> None:
    """On time, late and missing units, stacked, per kind of unit."""
    _style(ax, CHART_TITLES[1])
    labels = [k.label for k in b.by_kind][::-1]
    parts = [
        ("按时", [k.on_time for k in b.by_kind][::-1], GREEN),
        ("逾期", [k.late for k in b.by_kind][::-1], ORANGE),
        ("未报", [k.missing for k in b.by_kind][::-1], GREY),
    ]
    left = [0] * len(labels)
    for name, values, color in parts:
        ax.barh(labels, values, left=left, color=color, height=0.5, label=name)
        for y, (x0, v) in enumerate(zip(left, values, strict=True)):
            if v:
                ax.text(x0 + v / 2, y, str(v), ha="center", va="center", fontsize=7.5, color="white")
        left = [a + v for a, v in zip(left, values, strict=True)]
    ax.set_xlabel("单位数", fontsize=7.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=7, frameon=False, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.24))


def increments(ax: Axes, b: BriefFigures) -> None:
    """Growth over last month's year-to-date figure of the five fastest-growing indicators."""
    _style(ax, CHART_TITLES[2])
    if not b.increments:
        _empty(ax, "本月无可比较的上月数据")
        return
    labels = [_short(i.label.split(" ", 1)[1]) for i in b.increments][::-1]
    values = [100 * i.growth for i in b.increments][::-1]
    ax.barh(labels, values, color=BLUE, height=0.5)
    for y, v in enumerate(values):
        ax.text(v, y, f" +{v:.1f}%", va="center", fontsize=7.5)
    ax.set_xlim(0, max(values) * 1.3)
    ax.set_xlabel("环比增幅 %", fontsize=7.5)


def trend(ax: Axes, b: BriefFigures) -> None:
    """The numeric target's city-wide year-to-date figure by month, against the year's goal and an even pace."""
    t = b.trend
    _style(ax, CHART_TITLES[3] if t is None else f"{_short(t.name, 14)}（{t.measure_unit}）")
    if t is None or not t.values:
        _empty(ax, "暂无数据")
        return
    months = [int(m[5:7]) for m in t.months]
    ax.plot(months, t.values, marker="o", color=BLUE, lw=1.6, ms=3.5, label="全市累计")
    ax.plot([0, 12], [0, t.goal], color=INK, lw=0.8, ls="--", label="均衡进度")
    ax.axhline(t.goal, color=ORANGE, lw=0.9, label=f"全年目标 {t.goal:g}")
    ax.text(months[-1], t.values[-1], f" {t.values[-1]:,.1f}", fontsize=7.5, va="bottom")
    ax.set_xlim(0.5, 12.5)
    ax.set_xticks(range(1, 13))
    ax.set_xlabel("月份", fontsize=7.5)
    ax.set_ylim(0, max(t.goal, *t.values) * 1.12)
    ax.legend(fontsize=6.5, frameon=False, loc="upper left")


def draw_charts(fig: Figure, b: BriefFigures, bottom: float, top: float) -> list[Axes]:
    """The four charts in a 2 × 2 grid between `bottom` and `top` (figure fractions)."""
    grid = fig.add_gridspec(2, 2, left=0.17, right=0.96, bottom=bottom, top=top, hspace=0.6, wspace=0.55)
    axes = [fig.add_subplot(grid[i // 2, i % 2]) for i in range(4)]
    for ax, draw in zip(axes, (target_progress, reporting, increments, trend), strict=True):
        draw(ax, b)
    return axes
