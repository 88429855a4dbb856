"""The other sheets of the consolidated workbook: 附件1, 报送情况, 数据问题, 目标进度, 核对 and the chart."""

from __future__ import annotations

from typing import SupportsInt, cast

import pandas as pd
from xlsxwriter.workbook import Workbook

from config import Config
from tasks.publish.targets import target_rows
from tasks.xlsx.style import Styles, add_sheet, banner, print_setup, write_table, write_value

CHART_CONCEPT = "consumption_aid_amount"


def write_annex(wb: Workbook, s: Styles, by_district: pd.DataFrame, by_county: pd.DataFrame, note: str) -> None:
    """附件1: both tables of Attachment 1 in the notice's layout (区|人数|区|人数; 省|市|县|人数)."""
    ws = add_sheet(wb, "附件1")
    banner(ws, 0, "附件1", s.title)
    banner(ws, 1, f"表1　中西部省份建档立卡贫困劳动力在京就业情况（按就业区）{note}", s.subtitle)
    half = (len(by_district) + 1) // 2
    left, right = by_district.iloc[:half], by_district.iloc[half:]
    rows = [[*left.iloc[i], *(right.iloc[i] if i < len(right) else (None, None))] for i in range(half)]
    rows.append(["合计", int(by_district["persons"].sum()), None, None])
    count = s.numbers["count"]
    r = write_table(ws, s, 2, ["区", "人数", "区", "人数"], rows, [s.text, count, s.text, count])
    banner(ws, r + 1, "表2　对口帮扶地区建档立卡贫困劳动力在京就业情况（按户籍县）", s.subtitle)
    rows = []
    for province, part in by_county.groupby("province", sort=False):
        rows += [[p, c, k, n] for p, c, k, n in part.itertuples(index=False)]
        rows.append([province, "小计", None, int(part["persons"].sum())])
    write_table(ws, s, r + 2, ["省(区)", "市(盟)", "县(旗)", "人数"], rows, [s.text, s.text, s.text, count])
    print_setup(ws, 2, widths=[10, 8, 10, 8])


def write_status(wb: Workbook, s: Styles, cfg: Config, status: pd.DataFrame, rates: pd.DataFrame) -> None:
    """报送情况: reporting rate and on-time rate at the top, then every expected unit."""
    ws = add_sheet(wb, "报送情况")
    banner(ws, 0, "报送情况（完整性与及时性）", s.title)
    ratio = s.numbers["ratio"]
    r = write_table(
        ws,
        s,
        1,
        ["范围", "应报单位", "已报单位", "报送率", "按时报送", "按时报送率"],
        rates[["scope", "expected", "reported", "reporting_rate", "on_time", "on_time_rate"]].values.tolist(),
        [s.text, s.center, s.center, ratio, s.center, ratio],
    )
    header = r + 1
    rows = [
        [
            row.form_code,
            row.unit_name,
            "已报送" if row.reported else "未报送",
            row.first_received,
            row.version,
            row.received_at,
            ("按时" if row.on_time else "逾期") if row.reported else None,
            row.rejected,
            row.warnings,
            row.review,
        ]
        for row in status.itertuples()
    ]
    write_table(
        ws,
        s,
        header,
        [
            "表",
            "填报单位",
            "是否报送",
            "首次报送时间",
            "采用版本",
            "采用版本报送时间",
            "是否按时",
            "被退回次数",
            "警告数",
            "审核状态",
        ],
        rows,
        [s.center, s.text, s.center, s.center, s.center, s.center, s.center, s.center, s.center, s.center],
    )
    banner(
        ws,
        header - 1,
        f"截止日: 次月{cfg.calendar.deadline_day}日; 报送率=已报/应报, 按时报送率=截止日前报送/应报",
        s.plain,
    )
    print_setup(ws, header, freeze_col=2, repeat=(header, header))


def write_warnings(wb: Workbook, s: Styles, cfg: Config, warnings: pd.DataFrame) -> None:
    """数据问题: every warning still raised on the versions counted, by unit, and whether it is explained (说明)."""
    ws = add_sheet(wb, "数据问题")
    unexplained = int(warnings["unexplained"].sum()) if len(warnings) else 0
    banner(ws, 0, f"数据问题（警告共 {len(warnings)} 条，其中未说明 {unexplained} 条）", s.title)
    rows = []
    for w in warnings.itertuples():
        # Text and integer columns: the stubs type a row's fields as any scalar.
        unit = cfg.unit(cast(str, w.unit_code)) if w.unit_code else None
        indicator = (
            cfg.form(unit.form_code).row(int(cast("SupportsInt", w.row_no))).indicator if unit and w.row_no else None
        )
        rows.append(
            [
                unit.name if unit else None,
                w.row_no,
                indicator,
                w.region,
                w.cell,
                w.value,
                w.rule,
                w.message_zh,
                w.explanation_status,
                w.explanation,
            ]
        )
    headers = ["填报单位", "序号", "指标", "区域", "单元格", "值", "规则", "问题", "说明状态", "单位说明"]
    write_table(ws, s, 1, headers, rows)
    print_setup(ws, 1, freeze_col=1)


def write_targets(wb: Workbook, s: Styles, cfg: Config, current: pd.DataFrame, month: str) -> None:
    """目标进度: city-wide figures against the notice's targets or 2019's actual figures, progress as a bar."""
    ws = add_sheet(wb, "目标进度")
    banner(ws, 0, f"目标进度（{month[:4]}年）", s.title)
    rows = target_rows(cfg, current, month)
    headers = ["目标", "指标", "单位", "比较基准", "当前累计", "目标值或基数", "完成进度", "说明", "数据来源"]
    for c, h in enumerate(headers):
        write_value(ws, 2, c, h, s.header)
    r = 2
    for r, row in enumerate(rows.itertuples(index=False), start=3):
        number = s.measure(str(row.measure_unit)) if row.measure_unit else s.numbers["money"]
        first = r == 3 or rows.iloc[r - 4]["target"] != row.target
        target = row.target if first else None
        fields = (target, row.indicator, row.measure_unit, row.basis, row.value, row.goal, row.progress)
        formats = (s.text, s.text, s.center, s.center, number, number, s.numbers["ratio"])
        for c, (value, fmt) in enumerate(zip(fields, formats, strict=True)):
            write_value(ws, r, c, value, fmt)
        write_value(ws, r, 7, row.note or None, s.flag if row.note else s.text)
        write_value(ws, r, 8, row.sources, s.text)
    if len(rows):
        ws.conditional_format(
            3,
            6,
            r,
            6,
            {
                "type": "data_bar",
                "bar_color": "#5B9BD5",
                "bar_solid": True,
                "min_type": "num",
                "min_value": 0,
                "max_type": "num",
                "max_value": 1,
            },
        )
    banner(
        ws,
        1,
        "完成进度=当前累计/目标值（或2019年实际完成量），条形满格即达到；2019年基数录入后自动计算。",
        s.plain,
    )
    print_setup(ws, 2, widths=[16, 16, 6, 10, 12, 12, 12])


def write_reconciliation(wb: Workbook, s: Styles, recon: pd.DataFrame, labels: list[str], note: str) -> None:
    """核对: the HR bureau's records beside the units' 帮扶贫困人口来京就业数, region by region, with the gap."""
    ws = add_sheet(wb, "核对")
    banner(ws, 0, f"核对：人社局在京就业记录 vs 各单位报送的帮扶贫困人口来京就业数{note}", s.title)
    count = s.numbers["count"]
    headers = ["区域", "人社局记录(人)", *labels, "单位报送合计", "差额(单位-人社局)", "差额率"]
    write_table(
        ws,
        s,
        1,
        headers,
        recon.values.tolist(),
        [s.text, count, *([count] * len(labels)), count, count, s.numbers["ratio"]],
    )
    print_setup(ws, 1, freeze_col=1)


def write_chart(wb: Workbook, s: Styles, cfg: Config, current: pd.DataFrame) -> None:
    """消费扶贫金额 by district as a column chart beside its figures."""
    ind = next(i for i in cfg.concepts[CHART_CONCEPT] if cfg.form(i.form_code).unit_kind == "district")
    part = current[
        (current["form_code"] == ind.form_code)
        & (current["row_no"] == ind.row_no)
        & (current["region"] == cfg.total_column)
    ].set_index("unit_code")["value"]
    ws = add_sheet(wb, "消费扶贫图")
    title = f"各区{ind.indicator}（{ind.measure_unit}）"
    banner(ws, 0, title, s.title)
    rows = [[u.short_name, part.get(u.code)] for u in cfg.districts]
    write_table(ws, s, 1, ["区", ind.indicator], rows, [s.text, s.measure(ind.measure_unit)])
    chart = wb.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": ind.indicator,
            "categories": ["消费扶贫图", 2, 0, 1 + len(rows), 0],
            "values": ["消费扶贫图", 2, 1, 1 + len(rows), 1],
            "data_labels": {"value": True},
        }
    )
    chart.set_title({"name": title, "name_font": {"name": "宋体"}})
    chart.set_x_axis({"num_font": {"name": "宋体"}})
    chart.set_legend({"none": True})
    chart.set_size({"width": 760, "height": 380})
    ws.insert_chart(1, 3, chart)
    print_setup(ws, 1, widths=[10, 16])
