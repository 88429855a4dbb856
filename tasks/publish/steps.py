"""Publish flows' steps as plain functions: write and freeze the workbook, build what is owed and deliver it (or, in a
dry run, only say who would receive what); database and SMTP hiccups are retried."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Engine

from config import Config
from core.retry import call_with_retries
from core.settings import Paths
from tasks.mail.locked_lists import encrypt_xlsx, list_passwords
from tasks.mail.record import send_and_record
from tasks.mail.send import Delivery, Mail, MailSink
from tasks.publish import notify
from tasks.publish.at_once import owed_mails
from tasks.publish.brief import brief_file_name, render_brief, write_brief
from tasks.publish.brief_data import brief_figures
from tasks.publish.content import PublicationContent, gather
from tasks.publish.diff import diff_workbooks
from tasks.publish.record import PublicationRecord, freeze, publication_mailed, record_publication
from tasks.publish.workbook import publication_file_name, write_publication
from tasks.review.notify import return_mails

DRY_RUN = "dry-run"
SECRETS_DIR = "secrets"  # FUPIN_HOME/secrets/: owner-only, skipped by the PII scan


def gather_month(engine: Engine, cfg: Config, month: str) -> PublicationContent:
    """Everything the month's workbook shows, read in one go (retried on a transient database error)."""
    return call_with_retries(gather, engine, cfg, month)


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


def brief_paths(cfg: Config, month: str, version: int, paths: Paths) -> tuple[Path, Path]:
    """Where version `version`'s brief (PDF, PNG) lives: beside its workbook."""
    out_dir = paths.outputs / month
    return out_dir / brief_file_name(cfg, month, version, "pdf"), out_dir / brief_file_name(cfg, month, version, "png")


def write_month_brief(
    engine: Engine, cfg: Config, content: PublicationContent, paths: Paths, version: int
) -> tuple[Path, Path]:
    """The one-page brief of version `version`, as PDF and PNG beside the workbook; (pdf, png)."""
    figures = call_with_retries(brief_figures, engine, cfg, content, version)
    out_dir = paths.outputs / content.month
    return write_brief(render_brief(figures, cfg.report_title), cfg, content.month, version, out_dir)


def record(engine: Engine, month: str, version: int, path: Path, sha: str, ids: list[int]) -> PublicationRecord:
    """Record the frozen publication (retried on a transient database error)."""
    return call_with_retries(record_publication, engine, month, version, path, sha, ids)


def deliver(
    engine: Engine, sink: MailSink | None, mails: Sequence[Mail], sender: str, dry_run: bool = False
) -> list[Delivery]:
    """Send each mail and record it; a dry run sends and records nothing and says who would receive what."""
    if dry_run:
        return [Delivery(DRY_RUN, preview(m)) for m in mails]
    assert sink is not None  # only a dry run goes without a sink
    return [call_with_retries(send_and_record, engine, sink, m, sender) for m in mails]


def preview(mail: Mail) -> str:
    """One line: what kind, to whom, the subject and the attachments' names."""
    files = f" [{', '.join(a.filename for a in mail.attachments)}]" if mail.attachments else ""
    return f"{mail.kind} → {', '.join(mail.to)}: {mail.subject}{files}"


def submission_mails(engine: Engine, cfg: Config, paths: Paths) -> list[Mail]:
    """Receipts and rejection reports still owed (an ingest sends its own at once; these are what failed or were
    never tried), and the office's returns (审核退回) not yet delivered."""
    out = call_with_retries(owed_mails, engine, cfg, paths.quarantine, None)
    return out + call_with_retries(return_mails, engine, cfg, paths.home, paths.outputs)


def notify_submissions(
    engine: Engine, cfg: Config, paths: Paths, sink: MailSink | None, sender: str, dry_run: bool = False
) -> list[Delivery]:
    """Send each decided submission with no delivered mail yet its receipt or rejection report (idempotent)."""
    return deliver(engine, sink, submission_mails(engine, cfg, paths), sender, dry_run)


def send_labor_lists(
    engine: Engine,
    cfg: Config,
    month: str,
    paths: Paths,
    web_url: str,
    sink: MailSink | None,
    sender: str,
    dry_run: bool = False,
) -> list[Delivery]:
    """Tell each district, once, that its own labor list (outputs/YYYY-MM/labor/) is ready on the platform, with the
    link to its download; the list itself is never attached. With the platform off (web_url 'off') the list goes
    attached instead, encrypted with the district's own password (kept under FUPIN_HOME/secrets/, given by phone)."""
    done = call_with_retries(notify.labor_list_sent, engine, month)
    lists = [(u, p) for u, p in notify.labor_lists(cfg, month, paths.outputs / month / "labor") if u.code not in done]
    if not notify.platform_off(web_url):
        return deliver(engine, sink, [notify.labor_list(u, month, web_url) for u, _ in lists], sender, dry_run)
    if dry_run:  # says who would receive what, without making passwords or encrypting anything
        return deliver(engine, sink, [notify.locked_labor_list(u, month, p.name, b"") for u, p in lists], sender, True)
    passwords = list_passwords(paths.home / SECRETS_DIR, [u.code for u, _ in lists])
    mails = [
        notify.locked_labor_list(u, month, p.name, encrypt_xlsx(p.read_bytes(), passwords[u.code])) for u, p in lists
    ]
    return deliver(engine, sink, mails, sender)


def send_publication(
    engine: Engine,
    cfg: Config,
    pub: PublicationRecord,
    paths: Paths,
    summary: str,
    sink: MailSink | None,
    sender: str,
    dry_run: bool = False,
) -> Delivery | None:
    """The consolidated workbook and its brief (PDF and PNG, when written) to the office's list, once per
    publication."""
    if call_with_retries(publication_mailed, engine, pub.publication_id):
        return None
    brief = [p for p in brief_paths(cfg, pub.month, pub.version, paths) if p.is_file()]
    mail = notify.publication(cfg, pub.month, pub.version, paths.home / pub.path, pub.publication_id, summary, brief)
    [delivery] = deliver(engine, sink, [mail], sender, dry_run)
    return delivery


def send_reminders(
    engine: Engine, cfg: Config, month: str, today: dt.date, sink: MailSink | None, sender: str, dry_run: bool = False
) -> dict[str, str]:
    """Remind every unit without an accepted report for `month` (at most once a day); unit code -> delivery."""
    already = call_with_retries(notify.reminded_today, engine, cfg, month, today)
    units = [u for u in call_with_retries(notify.units_without_report, engine, cfg, month) if u.code not in already]
    sent = deliver(engine, sink, [notify.reminder(cfg, u, month) for u in units], sender, dry_run)
    return {u.code: d.detail for u, d in zip(units, sent, strict=True)}
