"""封面: the month, how many units have reported and on time, this version against the last, who is still missing."""

from __future__ import annotations

from xlsxwriter.workbook import Workbook

from config import Config
from tasks.publish.content import PublicationContent
from tasks.publish.diff import ChangeSummary
from tasks.xlsx.style import Styles, add_sheet, banner, print_setup, write_link, write_value

COVER_SHEET = "封面"


def version_line(version: int, summary: ChangeSummary | None) -> str:
    """'第2版（与第1版相比：新增：…；…）', or the first version's own line."""
    if summary is None:
        return f"第{version}版（本月首次发布）"
    return f"第{version}版（与第{version - 1}版相比：{summary.line()}）"


def write_cover(
    wb: Workbook,
    s: Styles,
    cfg: Config,
    content: PublicationContent,
    version: int,
    summary: ChangeSummary | None,
    contents: list[tuple[str, str]],
) -> None:
    """The first sheet a leader sees; `contents` lists the other sheets (name, what it holds), each a link."""
    ws = add_sheet(wb, COVER_SHEET)
    missing = content.status[~content.status["reported"].astype(bool)]
    banner(ws, 0, cfg.report_title, s.title)
    banner(ws, 1, f"{content.month[:4]}年{int(content.month[5:])}月 汇总", s.subtitle)
    banner(ws, 2, content.cover_status, s.subtitle)
    banner(ws, 3, version_line(version, summary), s.plain)
    names = "、".join(missing["unit_name"])
    banner(ws, 4, f"尚未报送（{len(missing)}个）：{names}" if len(missing) else "应报单位均已报送", s.plain)
    top = 6
    for c, h in enumerate(("表", "应报", "已报", "按时", "尚未报送的单位")):
        write_value(ws, top, c, h, s.header)
    r = top
    for r, rate in enumerate(content.rates.itertuples(index=False), start=top + 1):
        part = missing if rate.scope == "全部" else missing[missing["form_code"] == rate.scope]
        who = "、".join(part["unit_name"]) or "无"
        for c, value in enumerate((rate.scope, rate.expected, rate.reported, rate.on_time, who)):
            write_value(ws, r, c, value, s.text if c == 4 else s.center)
    # The contents sit right of the counts, so the cover stays one page and each table keeps its own widths.
    for c, h in ((6, "工作表"), (7, "内容")):
        write_value(ws, top, c, h, s.header)
    for r, (sheet, what) in enumerate(contents, start=top + 1):
        write_link(ws, r, 6, f"internal:'{sheet}'!A1", sheet, s.link)
        write_value(ws, r, 7, what, s.text)
    ws.hide_gridlines(2)
    print_setup(ws, top, widths=[8, 6, 6, 6, 24, 2, 10, 30], repeat=(0, 0), freeze=False)
    ws.fit_to_pages(1, 1)
