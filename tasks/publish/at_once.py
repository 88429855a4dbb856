"""Receipts and rejections sent right after an ingest: only the files just ingested, each once (the outbox pattern:
owed until fct_mail holds a delivered row). A failure stops the batch and leaves the rest owed, never raised."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from config import Config
from tasks.mail.record import send_and_record
from tasks.mail.send import Delivery, Mail, MailError, MailSink
from tasks.publish import notify


@dataclass(frozen=True)
class SentAtOnce:
    """What went out, how many stay owed, and why they stay (the first failure's text; None when all went)."""

    delivered: list[Delivery] = field(default_factory=list)
    owed: int = 0
    failure: str | None = None


def owed_mails(engine: Engine, cfg: Config, quarantine: Path, submission_ids: Collection[int] | None) -> list[Mail]:
    """The receipt or rejection report owed to each decided submission (of `submission_ids`, or every one)."""
    return [
        notify.receipt(cfg, sub) if sub["status"] == "accepted" else notify.rejection(cfg, sub, quarantine)
        for sub in notify.pending_submissions(engine, submission_ids)
    ]


def send_at_once(
    engine: Engine,
    cfg: Config,
    quarantine: Path,
    submission_ids: Collection[int],
    make_sink: Callable[[], MailSink],
    sender: str,
) -> SentAtOnce:
    """Send what the given submissions are owed; the sink is made only when something is owed. The first mail that
    cannot go stops the rest (the server is likely down for all): they stay owed for the next send."""
    mails = owed_mails(engine, cfg, quarantine, submission_ids)
    if not mails:
        return SentAtOnce()
    delivered: list[Delivery] = []
    try:
        sink = make_sink()
        for mail in mails:
            delivered.append(send_and_record(engine, sink, mail, sender))
    except (MailError, ValueError) as exc:  # ValueError: SettingsError, e.g. an SMTP login with no password
        return SentAtOnce(delivered, len(mails) - len(delivered), f"{type(exc).__name__}: {exc}")
    return SentAtOnce(delivered)
