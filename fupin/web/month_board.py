"""The office board's figures: each unit's state for the month, the counts and rates, and arrivals day by day."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Engine, text

from config import Config, Unit
from core.clock import office_date
from core.month import Month
from fupin.web import queries
from fupin.web.review_view import LABELS, MonthReview, month_review


@dataclass(frozen=True)
class BoardRow:
    unit: Unit
    status: queries.MonthStatus
    paper: dict | None


@dataclass(frozen=True)
class Bar:
    day: dt.date
    count: int
    total: int
    x: int
    y: int
    height: int


@dataclass(frozen=True)
class Board:
    month: str
    deadline: dt.date
    rows: list[BoardRow]
    counts: dict[str, int]
    rates: dict[str, float | int]
    bars: list[Bar]
    review: MonthReview

    def review_label(self, unit_code: str) -> str:
        """The unit's 审核 state (未报, 待审, 已审核, 退回, 已锁定)."""
        r = self.review.by_unit.get(unit_code)
        return LABELS[r.state] if r else ""


def rates(engine: Engine, month: str, expected: int) -> dict[str, float | int]:
    """The month's counts and rates as v_completeness gives them (the published workbook's figures too)."""
    query = text(
        "SELECT n_expected, n_reported, n_on_time, reporting_rate, on_time_rate FROM v_completeness "
        "WHERE month = :m LIMIT 1"
    )
    with engine.connect() as conn:
        row = conn.execute(query, {"m": month}).mappings().first()
    if row is None:  # no report has arrived yet: the view has no row for the month
        return {"n_expected": expected, "n_reported": 0, "n_on_time": 0, "reporting_rate": 0.0, "on_time_rate": 0.0}
    return {k: (float(v) if "rate" in k else int(v or 0)) for k, v in row.items()}


CHART_HEIGHT, BAR_WIDTH, BAR_GAP = 120, 18, 4


def arrivals(cfg: Config, rows: list[BoardRow], month: str) -> list[Bar]:
    """Units whose first accepted version arrived on each office day from the 1st of the next month to the deadline
    (earlier ones count on the 1st), then one bar for every later arrival; with the running total."""
    first_days = []
    for row in rows:
        accepted = [v for v in row.status.versions if v.status == "accepted"]
        if accepted:
            first = min(accepted, key=lambda v: v.version or 0)
            when = first.received_at if first.received_at.tzinfo else first.received_at.replace(tzinfo=dt.UTC)
            first_days.append(office_date(when, cfg.calendar.timezone))
    start, deadline = Month(month).shift(1), cfg.deadline(month)
    days = [dt.date(start.year, start.mon, 1) + dt.timedelta(days=n) for n in range(deadline.day)]
    counts = [sum(1 for d in first_days if (d <= day if n == 0 else d == day)) for n, day in enumerate(days)]
    late = sum(1 for d in first_days if d > deadline)
    if late:
        days.append(deadline + dt.timedelta(days=1))
        counts.append(late)
    peak, bars, total = max([1, *counts]), [], 0
    for n, (day, count) in enumerate(zip(days, counts, strict=True)):
        total += count
        height = round(CHART_HEIGHT * count / peak)
        bars.append(Bar(day, count, total, n * (BAR_WIDTH + BAR_GAP), CHART_HEIGHT - height, height))
    return bars


def month_board(engine: Engine, cfg: Config, month: str, today: dt.date) -> Board:
    by_unit = queries.versions_by_unit(engine, month)
    paper = queries.paper_copies(engine, month)
    rows = [
        BoardRow(u, queries.month_status(cfg, u.code, month, by_unit.get(u.code, []), today), paper.get(u.code))
        for u in cfg.units
    ]
    counts = Counter(r.status.state for r in rows)
    counts["late"] = sum(1 for r in rows if r.status.late)
    counts["paper"] = sum(1 for r in rows if r.paper)
    return Board(
        month,
        cfg.deadline(month),
        rows,
        dict(counts),
        rates(engine, month, len(rows)),
        arrivals(cfg, rows, month),
        month_review(engine, month),
    )


def board_json(board: Board) -> dict:
    """The board in the pinned API's terms: the month, its figures and each unit's state."""
    return {
        "month": board.month,
        "deadline": board.deadline.isoformat(),
        **board.rates,
        "counts": board.counts,
        "locked": board.review.lock is not None,
        "units": [
            {
                "unit": r.unit.code,
                "name": r.unit.name,
                "form": r.unit.form_code,
                "status": r.status.state,
                "late": r.status.late,
                "version": r.status.current.version if r.status.current else None,
                "submission_id": r.status.current.submission_id
                if r.status.current
                else (r.status.latest.submission_id if r.status.latest else None),
                "paper_copy": r.paper["received_on"].isoformat() if r.paper else None,
                "review": board.review.by_unit[r.unit.code].state if r.unit.code in board.review.by_unit else None,
            }
            for r in board.rows
        ],
        "arrivals": [{"day": b.day.isoformat(), "count": b.count, "total": b.total} for b in board.bars],
    }
