"""Close a month: sweep the inbox, wait for every file run of the month, then publish and send — or fail loudly."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow
from prefect.states import Failed

from config.workdays import CalendarGap
from core.clock import office_now
from core.errors import CannotWork
from core.month import Month
from flows.intake import begin_sweep
from flows.publish_month import publish_month
from flows.runtime import Runtime, in_flow_run, load_runtime, run_table
from tasks.mail.record import send_and_record
from tasks.mail.send import sink_from_settings
from tasks.publish.close import close_due, close_month
from tasks.publish.notify import calendar_alert
from tasks.publish.record import latest_publication
from tasks.runs.close import OPEN_STATES, close_rows
from tasks.runs.wait import settle_file_runs


@flow(name="monthly-close", retries=0, log_prints=True, persist_result=False)
def monthly_close(
    month: str | None = None,
    wait_minutes: float = 60.0,
    final: bool = False,
    when_due: bool = True,
    today: str | None = None,
) -> Any:
    """Publish and send `month` (default: the previous month, Asia/Shanghai) once every file of it has ended: after
    a last sweep of the inbox and every open ingest-file run. A file still pending or crashed (after bounded
    automatic retries) fails the close, with the month's table naming each unit and its state. `final` publishes
    the final version, which locks the month (the close itself never locks otherwise). Receipts and rejections went
    out at each ingest (the sweep's too); the close sends the consolidated workbook, and only what is still owed.
    Without a month (the schedule), it acts only when the close day, moved to the working day before a holiday or
    weekend, has come (`when_due=False`: close the month being reported, now); a year no calendar covers fails and
    alerts. `today` (YYYY-MM-DD, office date) replays a day."""
    chosen = Month(month) if month else None
    rt = load_runtime()
    if chosen is None and when_due:
        due = _due(rt, dt.date.fromisoformat(today) if today else office_now(rt.config.calendar.timezone).date())
        if due is None:
            print("today is not the close day (working-day calendar): nothing done")
            return {"month": None, "swept": [], "publication": None}
        chosen = due
    month = chosen or close_month(dt.datetime.now(dt.UTC), rt.config.calendar.timezone)
    # The files' runs are recorded while the close goes on: publishing needs none of them, only the table does.
    sweep, recording = begin_sweep(rt)
    try:
        crashed_here = []
        if any(o.status == "crashed" for o in sweep.outcomes):  # their runs must exist before settling retries them
            crashed_here = [o for o in recording.finish() if o.status == "crashed" and o.run_id is None]
        still = settle_file_runs(month, wait_minutes * 60) if in_flow_run() else []
        open_rows = [r for r in close_rows(rt.engine, rt.config, month, still) if r.state in OPEN_STATES]
        publication = None
        if not (open_rows or crashed_here):
            # Publishing is a step of the close, not a subflow: a subflow's own run, states and task cost about 0.9 s
            # on a 2-core machine, as much as publishing itself, and the close's run already shows what was published.
            publication = publish_month.fn(month=month, send=True, final=final)
    finally:
        outcomes = recording.finish()
    rows = close_rows(rt.engine, rt.config, month, still)
    table = [r.as_dict(rt.settings.ui_url) for r in rows]
    run_table(table, f"monthly-close-{month}", f"{month}: each unit's file at the close")
    if publication is None:
        named = [f"{r.unit_name}({r.state})" for r in open_rows] + [f"{o.name}(crashed)" for o in crashed_here]
        message = (
            f"{month} 未发布：{len(named)} 个文件仍在处理或运行崩溃 / not published: {len(named)} file(s) still "
            f"pending or crashed: {', '.join(named)}"
        )
        print(message)
        if not in_flow_run():
            raise CannotWork(message)
        return Failed(message=message)
    reported = sum(1 for r in rows if r.version)
    print(
        f"{month}: {len(outcomes)} file(s) swept; {reported}/{len(rt.config.units)} units reported; "
        f"published version {publication['version']} to {publication['path']}"
    )
    return {"month": month, "swept": [o.summary() for o in outcomes], "publication": publication}


def _due(rt: Runtime, today: dt.date) -> Month | None:
    """The month whose close is due `today`, by the working-day calendar; an uncovered year alerts, then fails."""
    cfg, engine = rt.config, rt.engine
    try:
        return close_due(cfg, today, lambda m: latest_publication(engine, m) is not None)
    except CalendarGap as exc:
        alert = calendar_alert(cfg, "月结 monthly-close", str(exc))
        send_and_record(engine, sink_from_settings(rt.settings), alert, rt.settings.mail_from)
        raise
