"""Everything a month's publication shows, gathered from the warehouse in one read."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine

from config import Config
from tasks.publish import checks, data
from tasks.publish.consolidate import Consolidated, consolidate


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
    with engine.connect() as conn:
        current = data.current_values(conn, month)
        submissions = data.report_submissions(conn, month, cfg.calendar.timezone)
        by_district, by_origin, labor_ids = data.labor_counts(conn, month)
        warnings = data.open_warnings(conn, sorted(set(current["submission_id"].astype(int))))
    status = checks.reporting_status(cfg, submissions)
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
    )
