"""Markdown for the run's artifacts and the CLI: the invalid rows (masked) and the month's Attachment 1 totals."""

from __future__ import annotations

import pandas as pd

from tasks.labor.tally import LaborCheck, Tally

ARTIFACT_ROWS = 200  # enough to act on; the full list is in fct_labor_invalid_row / fct_validation_issue


def invalid_rows_markdown(check: LaborCheck | Tally, max_ratio: float, file_name: str) -> str:
    """Row / column / masked value / rule of the failed cells; never a raw number or name."""
    lines = [
        f"# 劳动力名单校验 / labor file check: {file_name}",
        "",
        (
            f"- 行数 rows: {check.n_rows}; 无效行 invalid rows: {check.n_invalid_rows} "
            f"({check.invalid_ratio:.4%}); 允许 allowed: {max_ratio:.4%}"
        ),
        f"- 重复身份证号（只计一次）repeated numbers counted once: {len(check.duplicates)}",
        "",
        "| 行 row | 列 column | 值(脱敏) masked value | 规则 rule | 说明 message |",
        "|---|---|---|---|---|",
    ]
    for r in check.failures.head(ARTIFACT_ROWS).itertuples():
        lines.append(f"| {r.source_row} | {r.column_name} | {r.value_masked} | {r.rule} | {r.message_en} |")
    if len(check.failures) > ARTIFACT_ROWS:
        lines.append(f"| … | | | | {len(check.failures) - ARTIFACT_ROWS} more |")
    return "\n".join(lines)


def totals_markdown(month: str, by_district: pd.DataFrame, total: int) -> str:
    """Attachment 1 表1 for the month, district by district."""
    lines = [f"# 附件1 表1 {month}: {total}", "", "| 区 district | 人数 persons |", "|---|---|"]
    lines += [f"| {d} | {p} |" for d, p in by_district.itertuples(index=False)]
    return "\n".join(lines)
