"""Publish flows' steps as Prefect tasks: write and freeze the workbook, send what is owed; DB/SMTP hiccups retried."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Engine

from config import Config
from core.retry import transient_retries
from core.settings import Paths
from tasks.mail.record import send_and_record
from tasks.mail.send import Delivery, MailSink
from tasks.publish import notify
from tasks.publish.content import PublicationContent, gather
from tasks.publish.diff import diff_workbooks
from tasks.publish.record import PublicationRecord, freeze, publication_mailed, record_publication
from tasks.publish.workbook import publication_file_name, write_publication

gather_month = task(name="gather-month", cache_policy=NO_CACHE, **transient_retries())(gather)


@task(cache_policy=NO_CACHE)
def write_month_workbook(
    cfg: Config, content: PublicationContent, paths: Paths, previous: PublicationRecord | None
) -> tuple[Path, str, int]:
    """Write version N+1 (with 变更 against version N when there is one), freeze it; (path, sha256, version)."""
    version = previous.version + 1 if previous else 1
    out_dir = paths.outputs / content.month
    final = out_dir / publication_file_name(cfg, content.month, version)
    tmp = out_dir / f".{final.stem}.tmp.xlsx"
    changes = None
    if previous is not None:
        write_publication(tmp, cfg, content, version)
        changes = diff_workbooks(paths.home / previous.path, tmp)
    write_publication(tmp, cfg, content, version, changes)
    return final, freeze(tmp, final), version


record = task(name="record-publication", cache_policy=NO_CACHE, **transient_retries())(record_publication)


@task(cache_policy=NO_CACHE, **transient_retries())
def notify_submissions(engine: Engine, cfg: Config, paths: Paths, sink: MailSink, sender: str) -> list[Delivery]:
    """Send each decided submission with no delivered mail yet its receipt or rejection report (idempotent)."""
    out = []
    for sub in notify.pending_submissions(engine):
        mail = notify.receipt(cfg, sub) if sub["status"] == "accepted" else notify.rejection(cfg, sub, paths.quarantine)
        out.append(send_and_record(engine, sink, mail, sender))
    return out


@task(cache_policy=NO_CACHE, **transient_retries())
def send_labor_lists(
    engine: Engine, cfg: Config, month: str, paths: Paths, sink: MailSink, sender: str
) -> list[Delivery]:
    """Each district its own labor list (outputs/YYYY-MM/labor/), once, to that district only."""
    done = notify.labor_list_sent(engine, month)
    return [
        send_and_record(engine, sink, notify.labor_list(unit, month, path), sender)
        for unit, path in notify.labor_lists(cfg, month, paths.outputs / month / "labor")
        if unit.code not in done
    ]


@task(cache_policy=NO_CACHE, **transient_retries())
def send_publication(
    engine: Engine, cfg: Config, pub: PublicationRecord, paths: Paths, summary: str, sink: MailSink, sender: str
) -> Delivery | None:
    """The consolidated workbook to the office's list, once per publication."""
    if publication_mailed(engine, pub.publication_id):
        return None
    mail = notify.publication(cfg, pub.month, pub.version, paths.home / pub.path, pub.publication_id, summary)
    return send_and_record(engine, sink, mail, sender)


@task(cache_policy=NO_CACHE, **transient_retries())
def send_reminders(
    engine: Engine, cfg: Config, month: str, today: dt.date, sink: MailSink, sender: str
) -> dict[str, str]:
    """Remind every unit without an accepted report for `month` (at most once a day); unit code -> delivery."""
    already = notify.reminded_today(engine, cfg, month, today)
    return {
        unit.code: send_and_record(engine, sink, notify.reminder(cfg, unit, month), sender).detail
        for unit in notify.units_without_report(engine, cfg, month)
        if unit.code not in already
    }
