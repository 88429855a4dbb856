"""E-mail the operators about a failed or crashed run; started by the prefect.yaml automation on Failed/Crashed."""

from __future__ import annotations

from prefect import flow, get_run_logger
from sqlalchemy.exc import SQLAlchemyError

from flows.runtime import load_runtime
from tasks.mail.alert import alert_mail, read_failed_run, run_link
from tasks.mail.record import send_and_record
from tasks.mail.send import MailError, sink_from_settings


@flow(name="notify-failure", log_prints=True)
def notify_failure(flow_run_id: str) -> str:
    """Tell cfg.mail.operators which run failed, with its parameters, the reason and a link to it in the UI."""
    rt = load_runtime()
    failed = read_failed_run(flow_run_id)
    mail = alert_mail(failed, rt.settings.ui_url, rt.config.mail.operators)
    sink = sink_from_settings(rt.settings)
    try:
        send_and_record(rt.engine, sink, mail, rt.settings.mail_from)
    except SQLAlchemyError as exc:
        if isinstance(exc.__context__, MailError):
            raise
        # The alert went out; only its fct_mail row is missing (the warehouse may be why the run failed).
        get_run_logger().warning("alert sent but not recorded in fct_mail: %s", exc)
    return run_link(rt.settings.ui_url, failed)
