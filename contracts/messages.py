"""Located, bilingual problem messages: file, sheet, cell, 序号, 指标, value found, and the rule broken."""

from __future__ import annotations

from dataclasses import asdict, dataclass

# rule -> (Chinese, English); {placeholders} are filled from the issue's `detail`.
RULES: dict[str, tuple[str, str]] = {
    "unreadable": ("无法读取文件:{reason}", "the file cannot be read: {reason}"),
    "no_table": ("找不到表头(需含 序号、指标、{total} 列)", "no header row with 序号, 指标 and {total} was found"),
    "unknown_form": (
        "无法判断是哪张表(指标名称与表1/表2/表3均不符)",
        "cannot tell which form this is (指标 match none)",
    ),
    "missing_column": ("缺少列“{column}”", "column “{column}” is missing"),
    "missing_row": ("缺少序号 {row_no} 这一行", "the row with 序号 {row_no} is missing"),
    "duplicate_row": ("序号 {row_no} 出现了不止一次", "序号 {row_no} appears more than once"),
    "indicator_mismatch": (
        "指标应为“{expected}”,表中写的是“{found}”",
        "指标 should be “{expected}” but the sheet says “{found}”",
    ),
    "not_a_number": ("不是数字(未填报请留空或填“—”)", "not a number (leave blank or write — when not reported)"),
    "formula_uncomputed": (
        "公式没有计算结果且无法计算:{formula};请在Excel中打开并保存后重新报送",
        (
            "formula without a computed value that cannot be evaluated: {formula}; "
            "open and save it in Excel, then send it again"
        ),
    ),
    "non_negative": ("不能为负数", "must not be negative"),
    "whole_number": ("{measure_unit}应为整数", "a figure in {measure_unit} must be a whole number"),
    "money_decimals": ("亿元最多保留4位小数", "亿元 takes at most 4 decimals"),
    "within_warehouse": (
        "数值过大：以{measure_unit}计的数值应小于10的{digits}次方，请核对单位和数量级",
        "too large: a figure in {measure_unit} must be below 10^{digits}; check the unit and magnitude",
    ),
    "rate_range": ("百分比应在0到100之间", "a percentage must lie between 0 and 100"),
    "total_sum": ("合计应等于各地区之和 {expected}", "合计 must equal the sum of the regions, {expected}"),
    "total_rate": (
        "合计的比率应在各地区最小值 {low} 与最大值 {high} 之间",
        "the 合计 rate must lie between the regions' lowest {low} and highest {high}",
    ),
    "part_of_parent": (
        "“其中”各项之和 {parts} 不能超过序号 {parent} 的 {parent_value}",
        "the parts (其中) add up to {parts}, more than 序号 {parent} ({parent_value})",
    ),
    "parent_blank": (
        "其中项已填而合计项为空：序号 {parent}（{parent_indicator}）未填",
        "a part (其中) is filled while its whole, 序号 {parent} ({parent_indicator}), is blank",
    ),
    "month_locked": (
        "{month} 已于 {locked_at} 由 {locked_by} 锁定（审核完毕），不再接收新文件；如需更正，请联系北京市扶贫支援办"
        "（{contact}）申请对本单位重新开放",
        "{month} was locked on {locked_at} by {locked_by} after review: no new file is accepted; to correct it, ask "
        "the office ({contact}) to reopen your unit",
    ),
    "at_most": (
        "不能超过序号 {other}({other_indicator})的 {other_value}",
        "must not exceed 序号 {other} ({other_indicator}), {other_value}",
    ),
    "unknown_unit": (
        "无法识别填报单位“{unit_text}”(请在 config/units.yaml 中添加别名,或使用办公室下发的模板)",
        (
            "unknown reporting unit “{unit_text}” (add it as an alias in config/units.yaml, or use the "
            "office's template)"
        ),
    ),
    "wrong_form": ("{unit}应填报{unit_form},此文件是{form}", "{unit} fills {unit_form}, but this file is {form}"),
    "unit_conflict": (
        "这是发给{marker_unit}的模板,但填报单位写的是“{unit_text}”;请使用本单位的模板",
        "this is {marker_unit}'s template but 填报单位 says “{unit_text}”: use your own unit's template",
    ),
    "folder_mismatch": (
        "此文件属于{unit}，却来自{folder}的文件夹；请各单位只在本单位的文件夹中报送",
        "this file is for {unit}; it came from {folder}'s folder: send only from your own unit's folder",
    ),
    "month_conflict": (
        "这是{marker_month}的模板,但月份写的是{sheet_month};请使用本月的模板",
        "this is the template for {marker_month} but 月份 says {sheet_month}: use this month's template",
    ),
    "unknown_month": (
        "无法确定报告月份(模板标记、文件名、月份、报送时间均无)",
        "cannot tell the reporting month (no marker, file name, 月份 or 报送时间)",
    ),
    "month_out_of_range": (
        "报告月份 {month} 不是有效的报告月份({first} 至 {last})",
        "{month} is not a reporting month ({first} to {last})",
    ),
    "ytd_decrease": ("累计数 {ytd} 低于上月的 {previous}", "year-to-date {ytd} is below last month's {previous}"),
    "outlier": (
        "本月增量 {increment} 与本单位历史相比异常(修正z分数 {score})",
        "this month's increment {increment} is an outlier against the unit's history (modified z {score})",
    ),
}


@dataclass(frozen=True)
class Issue:
    """One problem found in a file; errors reject it, warnings are kept."""

    severity: str
    rule: str
    file: str
    sheet: str | None = None
    cell: str | None = None
    row_no: int | None = None
    indicator: str | None = None
    region: str | None = None
    value: str | None = None
    message_zh: str = ""
    message_en: str = ""

    def line(self, lang: str = "zh") -> str:
        """One report line: where, what was found, and the rule."""
        where = " ".join(p for p in (self.file, f"{self.sheet}!{self.cell}" if self.cell else self.sheet) if p)
        what = " ".join(
            p
            for p in (
                f"序号{self.row_no}" if self.row_no is not None else None,
                self.indicator,
                self.region,
                f"值“{self.value}”"
                if lang == "zh" and self.value is not None
                else (f"value “{self.value}”" if self.value is not None else None),
            )
            if p
        )
        message = self.message_zh if lang == "zh" else self.message_en
        return f"{where} | {what} | {message}" if what else f"{where} | {message}"

    def as_dict(self) -> dict:
        return asdict(self)


def make_issue(
    rule: str,
    file: str,
    severity: str = "error",
    *,
    sheet: str | None = None,
    cell: str | None = None,
    row_no: int | None = None,
    indicator: str | None = None,
    region: str | None = None,
    value: object = None,
    **detail: object,
) -> Issue:
    """An Issue whose two messages are filled from RULES[rule] and `detail`."""
    zh, en = RULES[rule]
    detail = {"row_no": row_no, "indicator": indicator, "region": region, **detail}
    return Issue(
        severity=severity,
        rule=rule,
        file=file,
        sheet=sheet,
        cell=cell,
        row_no=row_no,
        indicator=indicator,
        region=region,
        value=None if value is None else _show(value),
        message_zh=zh.format(**detail),
        message_en=en.format(**detail),
    )


def _show(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
