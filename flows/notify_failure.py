"""E-mail the operators about failed or crashed runs, at most once per window; started by the prefect.yaml automation
on Failed/Crashed (flow_run_id given), and by itself at the end of a window (no flow_run_id) for what waited."""

from __future__ import annotations

import datetime as dt
import time

from prefect import flow
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from core.retry import call_with_retries
from flows.runtime import load_runtime, run_log
from tasks.mail import alert_queue
from tasks.mail.alert import Alert, alert_of, alerts_mail, read_failed_run, schedule_flush
from tasks.mail.record import send_and_record
from tasks.mail.send import MailError, MailSink, sink_from_settings

# A window that ends this soon is waited for here rather than by another run (clocks of hosts differ a little).
WAIT_AT_MOST = dt.timedelta(seconds=60)


@flow(name="notify-failure", log_prints=True)
def notify_failure(flow_run_id: str | None = None) -> str:
    """Hold the failed run's alert; send what waits now if no alert e-mail went within the window (default 10
    minutes), else leave it for one run scheduled at the window's end. Returns what it did."""
    rt = load_runtime()
    log = run_log()
    window = dt.timedelta(seconds=rt.settings.alert_window_seconds)
    ops = rt.config.mail.operators
    sink = sink_from_settings(rt.settings)
    if flow_run_id:
        alert = alert_of(call_with_retries(read_failed_run, flow_run_id), rt.config, rt.settings.ui_url)
        try:
            alert_queue.hold(rt.engine, alert)
        except SQLAlchemyError as exc:
            # The warehouse may be why the run failed: this alert goes alone, at once, and is not grouped.
            log.warning("warehouse unreachable (%s): sending this alert on its own", type(exc).__name__)
            send_and_record_quietly(rt.engine, sink, [alert], ops, rt.settings.mail_from)
            return alert.link
    if not alert_queue.waiting(rt.engine):
        return "nothing waiting"  # and no run scheduled for an empty window
    now = dt.datetime.now(dt.UTC)
    due = alert_queue.mail_due(rt.engine, window, now)
    if due - now > WAIT_AT_MOST:
        flush = schedule_flush(due)
        log.info("an alert e-mail went less than %s ago; the next goes at %s (run %s)", window, due, flush)
        return f"held until {due.isoformat()}"
    time.sleep(max(0.0, (due - now).total_seconds()))
    batch = alert_queue.claim(rt.engine, dt.datetime.now(dt.UTC), stale_after=window + WAIT_AT_MOST)
    if not batch.alerts:
        return "nothing waiting"
    try:
        send_and_record_quietly(rt.engine, sink, batch.alerts, ops, rt.settings.mail_from)
    except MailError:
        alert_queue.release(rt.engine, batch)
        raise
    alert_queue.mark_sent(rt.engine, batch, dt.datetime.now(dt.UTC))
    print(f"alert e-mail sent for {len(batch.alerts)} run(s)")
    return batch.alerts[0].link if len(batch.alerts) == 1 else f"{len(batch.alerts)} alerts sent"


def send_and_record_quietly(
    engine: Engine, sink: MailSink, alerts: list[Alert], operators: tuple[str, ...], sender: str
) -> None:
    """Send one e-mail for `alerts`; a missing fct_mail row is only a warning once the e-mail went out."""
    try:
        send_and_record(engine, sink, alerts_mail(alerts, operators), sender)
    except SQLAlchemyError as exc:
        if isinstance(exc.__context__, MailError):
            raise exc.__context__ from exc
        run_log().warning("alert sent but not recorded in fct_mail: %s", type(exc).__name__)
