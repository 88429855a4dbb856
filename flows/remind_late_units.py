"""Flow: remind every unit that has not yet sent an accepted report for the month."""

from __future__ import annotations

from prefect import flow

from core.clock import office_now
from core.month import Month, reporting_month_for
from flows.runtime import load_runtime
from tasks.mail.send import sink_from_settings
from tasks.publish.steps import send_reminders


@flow(name="remind-late-units", retries=0)
def remind_late_units(month: str | None = None) -> dict:
    """Send reminders for `month` (default: the month being reported today, office time); who and where."""
    chosen = Month(month) if month else None
    rt = load_runtime()
    today = office_now(rt.config.calendar.timezone).date()
    month = chosen or reporting_month_for(today)
    sent = send_reminders(rt.engine, rt.config, month, today, sink_from_settings(rt.settings), rt.settings.mail_from)
    return {"month": month, "reminded": sorted(sent), "sent": list(sent.values())}
