"""The form sheets of the consolidated workbook: 表N 汇总 in Attachment 2's layout, and 表N 明细 by unit."""

from __future__ import annotations

import pandas as pd
from xlsxwriter.workbook import Workbook

from config import Config, Form
from config.layout import LAYOUT
from tasks.publish.consolidate import Consolidated
from tasks.xlsx.style import Styles, add_sheet, banner, print_setup, write_value

HEADER_ROW = LAYOUT.header_row - 1  # xlsxwriter counts from 0: the same sheet row as the template's
FIRST_DATA_ROW = HEADER_ROW + 1
LEAD_COLUMNS = LAYOUT.lead_columns
REMARK = LAYOUT.remark
INCREMENT = "本月新增"
VERSION_COLUMN = "采用版本"


def summary_sheet_name(form_code: str) -> str:
    return f"{form_code} 汇总"


def detail_sheet_name(form_code: str) -> str:
    return f"{form_code} 明细"


def month_label(month: str) -> str:
    return LAYOUT.month_text(month)


def summary_headers(cfg: Config, form: Form) -> list[str]:
    """序号|大类|指标|单位|合计|regions (表3: 合计|备注), then each value column's increment."""
    columns = list(cfg.columns(form))
    remark = [] if form.by_region else [REMARK]
    return [*LEAD_COLUMNS, *columns, *remark, *(f"{c}\n{INCREMENT}" for c in columns)]


def write_summary(
    wb: Workbook, styles: Styles, cfg: Config, form: Form, cons: Consolidated, month: str, n_units: int
) -> None:
    """表N 汇总: the form's rows by 序号 with the consolidated values, increments and notes on weighted rates."""
    ws = add_sheet(wb, summary_sheet_name(form.code))
    columns = list(cfg.columns(form))
    headers = summary_headers(cfg, form)
    banner(ws, 0, cfg.report_title, styles.title)
    banner(ws, 1, f"{form.code}　{form.title}（汇总）", styles.subtitle)
    units = len(cfg.units_of_form(form.code))
    banner(ws, 2, f"{month_label(month)}　汇总单位: {n_units}/{units}", styles.plain)
    for c, h in enumerate(headers):
        write_value(ws, HEADER_ROW, c, h, styles.header)
    inc_start = len(LEAD_COLUMNS) + len(columns) + (0 if form.by_region else 1)
    for ind in form.rows:
        r = FIRST_DATA_ROW + ind.row_no - 1
        for c, value in enumerate((ind.row_no, ind.category, ind.indicator, ind.measure_unit)):
            write_value(ws, r, c, value, styles.center if c in (0, 3) else styles.text)
        fmt = styles.measure(ind.measure_unit)
        for j, col in enumerate(columns):
            write_value(ws, r, len(LEAD_COLUMNS) + j, cons.values.loc[ind.row_no, col], fmt)
            write_value(ws, r, inc_start + j, cons.increments.loc[ind.row_no, col], fmt)
            note = cons.notes.get((ind.row_no, col))
            if note:
                ws.write_comment(r, len(LEAD_COLUMNS) + j, note, {"x_scale": 2, "y_scale": 1.5})
        if not form.by_region:
            write_value(ws, r, len(LEAD_COLUMNS) + len(columns), cons.remarks.get(ind.row_no), styles.text)
    banner(
        ws,
        FIRST_DATA_ROW + len(form.rows) + 1,
        "说明: 开工率等比率为按对应项目数(投资完成率按资金)加权的平均数，不作加总；"
        "本月新增=本月累计-上月累计(1月为本月累计)。",
        styles.plain,
    )
    print_setup(ws, HEADER_ROW, freeze_col=len(LEAD_COLUMNS), widths=[5, 8, 24], maximum=28)


def write_detail(wb: Workbook, styles: Styles, cfg: Config, form: Form, current: pd.DataFrame, month: str) -> None:
    """表N 明细: every unit's reported values, one row per unit and 序号, so a leader sees who contributed what."""
    ws = add_sheet(wb, detail_sheet_name(form.code))
    columns = list(cfg.columns(form))
    part = current[current["form_code"] == form.code]
    grid = part.set_index(["unit_code", "row_no", "region"])["value"].unstack("region").reindex(columns=columns)
    remarks = part[part["region"] == cfg.total_column].set_index(["unit_code", "row_no"])["remark"]
    versions = part.groupby("unit_code")["version"].first()
    headers = [LAYOUT.unit_label, *LEAD_COLUMNS, *columns, *([] if form.by_region else [REMARK]), VERSION_COLUMN]
    banner(ws, 0, cfg.report_title, styles.title)
    banner(ws, 1, f"{form.code}　{form.title}（分单位明细）", styles.subtitle)
    banner(ws, 2, month_label(month), styles.plain)
    for c, h in enumerate(headers):
        write_value(ws, HEADER_ROW, c, h, styles.header)
    # One dict lookup a row: a MultiIndex .loc per cell was most of the workbook's time.
    rows = dict(zip(grid.index, grid.to_numpy(dtype=object), strict=True))
    r = HEADER_ROW
    for unit in cfg.units_of_form(form.code):
        if unit.code not in versions.index:
            continue
        for ind in form.rows:
            r += 1
            lead = (unit.name, ind.row_no, ind.category, ind.indicator, ind.measure_unit)
            for c, value in enumerate(lead):
                write_value(ws, r, c, value, styles.center if c in (1, 4) else styles.text)
            key = (unit.code, ind.row_no)
            values = rows.get(key)
            for j in range(len(columns)):
                value = values[j] if values is not None else None
                write_value(ws, r, len(lead) + j, value, styles.measure(ind.measure_unit))
            c = len(lead) + len(columns)
            if not form.by_region:
                write_value(ws, r, c, remarks.get(key), styles.text)
                c += 1
            write_value(ws, r, c, int(versions[unit.code]), styles.center)
    ws.autofilter(HEADER_ROW, 0, max(r, HEADER_ROW), len(headers) - 1)
    print_setup(ws, HEADER_ROW, freeze_col=2, widths=[8, 5, 8, 24], maximum=28)
