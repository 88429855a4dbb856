"""Flow: remind every unit that has not yet sent an accepted report for the month, on the reminder day moved to a
working day; a year no calendar covers fails the run and alerts the operators instead of guessing."""

from __future__ import annotations

import datetime as dt

from prefect import flow

from config.workdays import CalendarGap
from core.clock import office_now
from core.month import Month, reporting_month_for
from flows.runtime import load_runtime, run_log
from tasks.mail.record import send_and_record
from tasks.mail.send import sink_from_settings
from tasks.publish import notify
from tasks.publish.close import due_month
from tasks.publish.steps import send_reminders


@flow(name="remind-late-units", retries=0)
def remind_late_units(
    month: str | None = None, dry_run: bool = False, when_due: bool = True, today: str | None = None
) -> dict:
    """Send reminders for `month` now; without a month (the schedule), only on the reminder day moved to the working
    day before a holiday or weekend (`when_due=False`: the month being reported, now). `today` (YYYY-MM-DD, office
    date) replays a day; `dry_run` sends nothing and says who would receive what."""
    chosen = Month(month) if month else None
    rt = load_runtime()
    cfg, engine = rt.config, rt.engine
    day = dt.date.fromisoformat(today) if today else office_now(cfg.calendar.timezone).date()
    if chosen is None and when_due:
        try:
            chosen = due_month(cfg, day, cfg.calendar.reminder_day, lambda m: notify.reminded(engine, m))
        except CalendarGap as exc:
            if not dry_run:
                alert = notify.calendar_alert(cfg, "催报提醒 remind-late-units", str(exc))
                send_and_record(engine, sink_from_settings(rt.settings), alert, rt.settings.mail_from)
            raise
        if chosen is None:
            run_log().info("%s is not a reminder day (working-day calendar): nothing sent", day)
            return {"month": None, "day": str(day), "reminded": [], "sent": [], "dry_run": dry_run}
    elif chosen is None:
        chosen = reporting_month_for(day)
    sink = None if dry_run else sink_from_settings(rt.settings)
    sent = send_reminders(engine, cfg, chosen, day, sink, rt.settings.mail_from, dry_run)
    return {"month": chosen, "day": str(day), "reminded": sorted(sent), "sent": list(sent.values()), "dry_run": dry_run}
