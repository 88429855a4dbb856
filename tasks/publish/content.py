"""Everything a month's publication shows, gathered from the warehouse in one read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine

from config import Config
from core.clock import office_wall
from core.month import month_key
from tasks.publish import checks, data
from tasks.publish.consolidate import Consolidated, consolidate
from tasks.review.explain import STATUS_LABELS, warnings_of
from tasks.review.states import unit_reviews

WARNING_COLUMNS = [
    "unit_code",
    "submission_id",
    "rule",
    "sheet",
    "cell",
    "row_no",
    "region",
    "value",
    "message_zh",
    "unexplained",
    "explanation_status",
    "explanation",
]


@dataclass(frozen=True)
class PublicationContent:
    """The figures of one publication, before they are written to a workbook."""

    month: str
    current: pd.DataFrame
    consolidated: dict[str, Consolidated]
    status: pd.DataFrame
    rates: pd.DataFrame
    warnings: pd.DataFrame
    targets: pd.DataFrame
    reconciliation: pd.DataFrame
    reconciliation_labels: list[str]
    annex_districts: pd.DataFrame
    annex_counties: pd.DataFrame
    labor_submission_ids: list[int]
    as_of: dt.datetime  # office wall time the figures were read

    @property
    def n_expected(self) -> int:
        return len(self.status)

    @property
    def n_reported(self) -> int:
        return int(self.status["reported"].sum())

    @property
    def cover_line(self) -> str:
        """'截至 … 已报 N/36': the line on the workbook's first sheet and in `fupin publish`'s answer."""
        return f"截至{self.as_of:%Y年%m月%d日 %H:%M} 已报 {self.n_reported}/{self.n_expected}"

    @property
    def n_on_time(self) -> int:
        return int(self.status["on_time"].sum())

    @property
    def cover_status(self) -> str:
        """'截至 M月D日 HH:MM 已报 N/36 个单位，按时 K 个': the cover's line, counted as v_completeness counts."""
        when = f"{self.as_of.month}月{self.as_of.day}日 {self.as_of:%H:%M}"
        return f"截至 {when} 已报 {self.n_reported}/{self.n_expected} 个单位，按时 {self.n_on_time} 个"

    @property
    def n_unexplained(self) -> int:
        return int(self.warnings["unexplained"].sum()) if len(self.warnings) else 0

    @property
    def submission_ids(self) -> list[int]:
        """The report and labor submissions this publication used, in id order."""
        reports = self.current["submission_id"].dropna().astype(int).tolist()
        return sorted(set(reports) | set(self.labor_submission_ids))

    @property
    def labor_note(self) -> str:
        return "" if self.labor_submission_ids else "（本月暂无人社局数据 / no HR records for this month）"


def gather(engine: Engine, cfg: Config, month: str) -> PublicationContent:
    """Read the month's current values, submissions, warnings and labor records, and derive every table."""
    now = dt.datetime.now(dt.UTC)
    with engine.connect() as conn:
        current = data.current_values(conn, month)
        submissions = data.report_submissions(conn, month, cfg.calendar.timezone)
        by_district, by_origin, labor_ids = data.labor_counts(conn, month)
        found = warnings_of(conn, sorted(set(current["submission_id"].astype(int))))
        reviews = {r.unit_code: r.label for r in unit_reviews(conn, month_key(month), now)}
    warnings = pd.DataFrame(
        [
            (w.unit_code, w.submission_id, w.rule, w.sheet, w.cell, w.row_no, w.region, w.value, w.message_zh)
            + (w.unexplained, STATUS_LABELS[w.status], w.explanation)
            for w in found
        ],
        columns=WARNING_COLUMNS,
    )
    status = checks.reporting_status(cfg, submissions)
    status["review"] = [reviews.get(code, "未报") for code in status["unit_code"]]
    recon, labels = checks.reconcile_labor(cfg, current, by_origin)
    return PublicationContent(
        month=month,
        current=current,
        consolidated=consolidate(cfg, current),
        status=status,
        rates=checks.reporting_rates(status),
        warnings=warnings,
        targets=checks.target_progress(cfg, current, month),
        reconciliation=recon,
        reconciliation_labels=labels,
        annex_districts=checks.annex_by_district(cfg, by_district),
        annex_counties=checks.annex_by_county(cfg, by_origin),
        labor_submission_ids=labor_ids,
        as_of=office_wall(now, cfg.calendar.timezone),
    )
