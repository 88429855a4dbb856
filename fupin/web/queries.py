"""What the pages show, read from the warehouse: a unit's month, its versions, one submission, its receipt."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Engine, and_, select

from config import Config
from core.clock import office_wall
from core.month import month_key
from warehouse.schema import (
    app_paper_copy,
    dim_indicator,
    dim_month,
    dim_region,
    dim_unit,
    fct_indicator_value,
    fct_submission,
    fct_validation_issue,
)

sub = fct_submission
REPORT = "report"


@dataclass(frozen=True)
class Version:
    """One file a unit handed in for a month, as its history and the board list it."""

    submission_id: int
    name: str
    status: str
    version: int | None
    is_current: bool
    is_late: bool | None
    received_at: dt.datetime
    n_errors: int
    n_warnings: int
    message: str | None
    sha256: str
    flow_run_id: str | None
    source: str | None


@dataclass(frozen=True)
class MonthStatus:
    """A unit's month: not_sent, accepted or rejected (the latest word), whether it is late, and the deadline."""

    unit_code: str
    month: str
    state: str
    deadline: dt.date
    days_left: int
    late: bool
    current: Version | None
    latest: Version | None
    versions: list[Version] = field(default_factory=list)

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state] + (" · 逾期 late" if self.late else "")


STATE_LABELS = {"not_sent": "未报送 not yet sent", "accepted": "已接收 accepted", "rejected": "已退回 rejected"}


def _version(row) -> Version:
    return Version(
        row.submission_id,
        row.original_name,
        row.status,
        row.version,
        bool(row.is_current),
        row.is_late,
        row.received_at,
        row.n_errors,
        row.n_warnings,
        row.message,
        row.sha256,
        row.flow_run_id,
        row.source,
    )


def versions(engine: Engine, month: str, unit_code: str | None = None) -> list[Version]:
    """Every report file for the month (one unit's, or everyone's), oldest first."""
    query = (
        select(sub, dim_unit.c.unit_code)
        .join(dim_unit, dim_unit.c.unit_key == sub.c.unit_key)
        .where(sub.c.kind == REPORT, sub.c.month_key == month_key(month))
        .order_by(sub.c.received_at, sub.c.submission_id)
    )
    if unit_code is not None:
        query = query.where(dim_unit.c.unit_code == unit_code)
    with engine.connect() as conn:
        return [_version(r) for r in conn.execute(query)]


def versions_by_unit(engine: Engine, month: str) -> dict[str, list[Version]]:
    out: dict[str, list[Version]] = {}
    query = (
        select(sub, dim_unit.c.unit_code)
        .join(dim_unit, dim_unit.c.unit_key == sub.c.unit_key)
        .where(sub.c.kind == REPORT, sub.c.month_key == month_key(month))
        .order_by(sub.c.received_at, sub.c.submission_id)
    )
    with engine.connect() as conn:
        for r in conn.execute(query):
            out.setdefault(r.unit_code, []).append(_version(r))
    return out


def month_status(cfg: Config, unit_code: str, month: str, found: list[Version], today: dt.date) -> MonthStatus:
    """The unit's state for the month from its files: the current accepted version wins; else the latest rejection."""
    deadline = cfg.deadline(month)
    current = next((v for v in found if v.is_current and v.status == "accepted"), None)
    latest = found[-1] if found else None
    if current is not None:
        first = min((v for v in found if v.status == "accepted"), key=lambda v: v.version or 0)
        state, late = "accepted", bool(first.is_late)
    else:
        state = "rejected" if latest is not None and latest.status == "rejected" else "not_sent"
        late = today > deadline
    return MonthStatus(unit_code, month, state, deadline, (deadline - today).days, late, current, latest, found)


def submission(engine: Engine, submission_id: int) -> tuple[Version, str | None, str | None] | None:
    """A submission with its unit code and month, or None."""
    query = (
        select(sub, dim_unit.c.unit_code, dim_month.c.month)
        .outerjoin(dim_unit, dim_unit.c.unit_key == sub.c.unit_key)
        .outerjoin(dim_month, dim_month.c.month_key == sub.c.month_key)
        .where(sub.c.submission_id == submission_id, sub.c.kind == REPORT)
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return (_version(row), row.unit_code, row.month) if row is not None else None


def issues(engine: Engine, submission_id: int) -> list[dict]:
    """The errors and warnings recorded for a submission, in the order they were found."""
    query = (
        select(fct_validation_issue)
        .where(fct_validation_issue.c.submission_id == submission_id)
        .order_by(fct_validation_issue.c.issue_id)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def archive_path(engine: Engine, submission_id: int) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(sub.c.archive_path).where(sub.c.submission_id == submission_id)).scalar()


def totals(engine: Engine, submission_id: int) -> list[dict]:
    """The 合计 column of a submission: each row's number, indicator, measure unit and value."""
    query = (
        select(
            dim_indicator.c.row_no, dim_indicator.c.indicator, dim_indicator.c.measure_unit, fct_indicator_value.c.value
        )
        .join(dim_indicator, dim_indicator.c.indicator_key == fct_indicator_value.c.indicator_key)
        .join(dim_region, and_(dim_region.c.region_key == fct_indicator_value.c.region_key, dim_region.c.is_total))
        .where(fct_indicator_value.c.submission_id == submission_id)
        .order_by(dim_indicator.c.row_no)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def received_text(cfg: Config, when: dt.datetime) -> str:
    """A time of receipt as the office's wall clock shows it."""
    aware = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return office_wall(aware, cfg.calendar.timezone).strftime("%Y-%m-%d %H:%M:%S")


def paper_copies(engine: Engine, month: str) -> dict[str, dict]:
    """The stamped paper copies received for a month, by unit code."""
    query = (
        select(
            dim_unit.c.unit_code,
            app_paper_copy.c.received_on,
            app_paper_copy.c.recorded_by,
            app_paper_copy.c.recorded_at,
        )
        .join(dim_unit, dim_unit.c.unit_key == app_paper_copy.c.unit_key)
        .where(app_paper_copy.c.month_key == month_key(month))
    )
    with engine.connect() as conn:
        return {r.unit_code: dict(r._mapping) for r in conn.execute(query)}
