"""The month's table at a close: each unit's file, its state, version, arrival, lateness and the run that shows it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, Row, select

from config import Config
from core.clock import office_date
from core.month import month_key
from tasks.runs.wait import FileRun
from warehouse.schema import dim_unit, fct_submission

PENDING, CRASHED = "处理中 pending", "运行崩溃 crashed"
OPEN_STATES = (PENDING, CRASHED)


@dataclass(frozen=True)
class CloseRow:
    unit_code: str
    unit_name: str
    form: str
    state: str
    version: int | None
    arrival: str | None
    late: bool | None
    run_id: str | None

    def as_dict(self, ui_url: str) -> dict:
        link = f"{ui_url.rstrip('/')}/runs/flow-run/{self.run_id}" if self.run_id else ""
        return {
            "单位 unit": self.unit_name,
            "表 form": self.form,
            "状态 state": self.state,
            "版本 version": self.version or "",
            "收到 arrival": self.arrival or "",
            "迟报 late": {True: "是 yes", False: "否 no", None: ""}[self.late],
            "运行 run": link,
        }


def _latest(engine: Engine, month: str) -> dict[str, Row]:
    """Each unit's deciding submission for the month: its current accepted one, else its last attempt."""
    query = (
        select(fct_submission, dim_unit.c.unit_code)
        .join(dim_unit, dim_unit.c.unit_key == fct_submission.c.unit_key)
        .where(fct_submission.c.kind == "report", fct_submission.c.month_key == month_key(month))
        .order_by(fct_submission.c.submission_id)
    )
    best: dict[str, Row] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            kept = best.get(row.unit_code)
            if kept is None or not kept.is_current:
                best[row.unit_code] = row
    return best


def close_rows(engine: Engine, cfg: Config, month: str, open_runs: list[FileRun]) -> list[CloseRow]:
    """One row per unit expected for the month; a unit whose file is still being ingested or crashed says so."""
    latest = _latest(engine, month)
    runs = {r.unit_code: r for r in open_runs if r.unit_code}
    rows = []
    for unit in cfg.units:
        sub = latest.get(unit.code)
        run = runs.get(unit.code)
        state, version, arrival, late, run_id = "未报 missing", None, None, None, None
        if sub is not None:
            received: dt.datetime = sub.received_at
            accepted = bool(sub.is_current)
            state = f"已接收 accepted v{sub.version}" if accepted else "退回 rejected"
            version = sub.version if accepted else None
            arrival = office_date(received, cfg.calendar.timezone).isoformat()
            late = sub.is_late
            run_id = sub.flow_run_id
        if run is not None:
            state, run_id = (CRASHED if run.is_crashed else PENDING), run.id
        rows.append(CloseRow(unit.code, unit.name, unit.form_code, state, version, arrival, late, run_id))
    for run in open_runs:
        if not run.unit_code:  # not parsed yet: its unit is unknown, but the month cannot close without it
            rows.append(CloseRow("", run.name, "", CRASHED if run.is_crashed else PENDING, None, None, None, run.id))
    return rows
