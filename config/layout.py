"""The sheet layout of the forms, declared once: the template writer, the parser and the published sheets read it."""

from __future__ import annotations

from dataclasses import dataclass

from core.month import Month


@dataclass(frozen=True)
class SheetLayout:
    """Where things sit on a form's sheet and what they are called (rows 1-based, as Excel shows them)."""

    header_row: int = 4  # title, form and month above it
    month_row: int = 3
    row_no: str = "序号"
    category: str = "大类"
    indicator: str = "指标"
    measure_unit: str = "单位"
    remark: str = "备注"  # 表3's last column, where a form has no regions
    month_label: str = "月份"
    unit_label: str = "填报单位"
    sent_label: str = "报送时间"
    marker_sheet: str = "_fupin"  # the very hidden sheet that says which form, unit and month a template is for

    @property
    def first_data_row(self) -> int:
        return self.header_row + 1

    @property
    def lead_columns(self) -> tuple[str, str, str, str]:
        """The columns before the values: 序号 大类 指标 单位."""
        return (self.row_no, self.category, self.indicator, self.measure_unit)

    @property
    def first_value_column(self) -> int:
        """The 1-based column of the first value (合计)."""
        return len(self.lead_columns) + 1

    def month_text(self, month: str) -> str:
        """'月份: 2020年9月', as the month row says it."""
        m = Month(month)
        return f"{self.month_label}: {m.year}年{m.mon}月"


LAYOUT = SheetLayout()
