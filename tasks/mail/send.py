"""Mail sinks chosen once at the edge: .eml files in the outbox, or SMTP (STARTTLS + login) with retries."""

from __future__ import annotations

import datetime as dt
import re
import smtplib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol, cast

from core.clock import office_now
from core.errors import FupinError
from core.settings import Settings, SettingsError, SmtpSettings

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEXT_MIME = "text/plain"
SECRET_BLOCK = "fupin-smtp-password"
# The Date header's zone: config/calendar.yaml's timezone (a test keeps them equal). Mail is built where no config
# is at hand (alerts, accounts), and a reader in Beijing should see Beijing time, not the server's UTC.
OFFICE_TIMEZONE = "Asia/Shanghai"


class MailError(FupinError):
    """A message could not be delivered; the text carries the server's answer."""


class TransientMailError(MailError):
    """The server or network failed in a way that may pass (4xx, disconnects, timeouts)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    mime: str = XLSX_MIME


@dataclass(frozen=True)
class Mail:
    """One message and what it is about (recorded in fct_mail)."""

    kind: str
    to: tuple[str, ...]
    subject: str
    body: str
    attachments: tuple[Attachment, ...] = ()
    month: str | None = None
    unit_code: str | None = None
    submission_id: int | None = None
    publication_id: int | None = None


@dataclass(frozen=True)
class Delivery:
    status: str  # "sent" or "written"
    detail: str


class MailSink(Protocol):
    def deliver(self, message: EmailMessage) -> Delivery: ...


def subject_line(month: str | None, who: str, text: str) -> str:
    """'[2020-09 朝阳区] text': every subject starts with the month and the unit, so a mailbox sorts by them."""
    return f"[{month or '月份不明'} {who}] {text}"


def build_message(mail: Mail, sender: str, timezone: str = OFFICE_TIMEZONE) -> EmailMessage:
    """An EmailMessage dated on the office's clock, with UTF-8 body and text attachments (each declaring its
    charset) and attachments whose Chinese file names are RFC 2231 encoded."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, ", ".join(mail.to), mail.subject
    msg["Date"] = format_datetime(office_now(timezone).replace(microsecond=0))
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(mail.body, charset="utf-8")
    for a in mail.attachments:
        maintype, _, subtype = a.mime.partition("/")
        # A (charset, language, value) tuple makes email emit filename*=utf-8''... (RFC 2231), never a raw header.
        name = ("utf-8", "", a.filename)
        if maintype == "text":  # as text, so the part says charset=utf-8 (bytes would go out with no charset)
            msg.add_attachment(a.data.decode("utf-8"), subtype=subtype, charset="utf-8", filename=name)
        else:
            msg.add_attachment(a.data, maintype=maintype, subtype=subtype, filename=name)
    return msg


@dataclass
class OutboxSink:
    """Writes each message as an .eml file under FUPIN_HOME/outbox/ (the embedded default: no SMTP host)."""

    directory: Path

    def deliver(self, message: EmailMessage) -> Delivery:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        subject = re.sub(r"[^\w\-]+", "_", str(message["Subject"]))[:60]
        path = self.directory / f"{stamp}_{subject}.eml"
        path.write_bytes(bytes(message))
        return Delivery("written", str(path))


@dataclass
class SmtpSink:
    """smtplib delivery: STARTTLS and login when configured; transient failures retried with backoff."""

    smtp: SmtpSettings
    password: str | None = None
    attempts: int = 4
    backoff: float = 2.0
    timeout: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep)

    def deliver(self, message: EmailMessage) -> Delivery:
        for attempt in range(1, self.attempts + 1):
            try:
                return self._send_once(message)
            except TransientMailError:
                if attempt == self.attempts:
                    raise
                self.sleep(self.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def _send_once(self, message: EmailMessage) -> Delivery:
        where = f"{self.smtp.host}:{self.smtp.port}"
        try:
            with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=self.timeout) as conn:
                conn.ehlo()
                if self.smtp.starttls:
                    conn.starttls()
                    conn.ehlo()
                if self.smtp.user:
                    conn.login(self.smtp.user, self.password or "")
                refused = conn.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise _classify(where, [(c, m) for c, m in exc.recipients.values()]) from exc
        except smtplib.SMTPResponseException as exc:
            raise _classify(where, [(exc.smtp_code, exc.smtp_error)]) from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise TransientMailError(f"SMTP {where} disconnected: {exc}") from exc
        except smtplib.SMTPException as exc:
            raise MailError(f"SMTP {where} refused: {exc}") from exc
        except OSError as exc:
            raise TransientMailError(f"SMTP {where} unreachable: {exc}") from exc
        # Some recipients refused, others accepted: it was sent, and the detail says to whom it was not.
        partial = "; ".join(f"{a}: {c} {m.decode(errors='replace')}" for a, (c, m) in refused.items())
        return Delivery("sent", f"{where} accepted" + (f", refused {partial}" if partial else ""))


def _classify(where: str, answers: Sequence[tuple[int, bytes | str]]) -> MailError:
    """4xx answers may pass (retry); anything else is permanent. The message quotes the server."""
    text = "; ".join(f"{c} {m.decode(errors='replace') if isinstance(m, bytes) else m}" for c, m in answers)
    transient = all(400 <= c < 500 for c, _ in answers)
    return (TransientMailError if transient else MailError)(f"SMTP {where} refused the message: {text}")


def smtp_password(smtp: SmtpSettings) -> str | None:
    """The SMTP password: FUPIN_SMTP_PASSWORD, else the Prefect Secret block 'fupin-smtp-password'."""
    if smtp.password is not None:
        return smtp.password.get_secret_value()
    if not smtp.user:
        return None
    try:
        from prefect.blocks.system import Secret

        # Called outside an event loop, load runs synchronously; its type also admits the coroutine of aload.
        return str(cast(Secret, Secret.load(SECRET_BLOCK)).get())
    except Exception as exc:
        raise SettingsError(
            f"FUPIN_SMTP_USER is set but neither FUPIN_SMTP_PASSWORD nor the Prefect Secret block "
            f"'{SECRET_BLOCK}' is available: {exc}"
        ) from exc


def sink_from_settings(settings: Settings, at_once: bool = False) -> MailSink:
    """The one choice of sink, at the edge: SMTP when FUPIN_SMTP_HOST is set, else the outbox. `at_once` (mail sent
    right after an ingest, which a clerk or an operator waits for) tries SMTP briefly: what fails stays owed."""
    if settings.smtp is None:
        return OutboxSink(settings.paths.outbox)
    if at_once:
        return SmtpSink(settings.smtp, smtp_password(settings.smtp), attempts=2, backoff=1.0, timeout=10.0)
    return SmtpSink(settings.smtp, smtp_password(settings.smtp))
