"""Mail that renders right: every text part declares UTF-8, Date is on the office's clock (+0800), and each subject
starts with the month and the unit. Read back from the real SMTP server and from the outbox's .eml files."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from config import Config
from core.settings import SmtpSettings
from tasks.mail.send import OFFICE_TIMEZONE, Mail, OutboxSink, SmtpSink, build_message
from tasks.publish import notify
from tests.smtp_capture import SmtpServer, plain_server

MONTH = "2020-09"
REPORT = "表1 第12行 合计应等于各地区之和 / the total must equal the sum of the regions\n"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    yield from plain_server()


def _rejection(cfg: Config, tmp_path: Path) -> Mail:
    """A rejection as the ingest leaves it: quarantine/<sha[:16]>/ holding report.txt and the highlighted copy."""
    sha = "ab" * 32
    folder = tmp_path / "quarantine" / sha[:16]
    folder.mkdir(parents=True)
    (folder / "report.txt").write_text(REPORT, encoding="utf-8")
    (folder / "朝阳区_2020-09_标注.xlsx").write_bytes(b"PK\x03\x04not-really")
    sub = {
        "submission_id": 7,
        "sha256": sha,
        "original_name": "朝阳区_2020-09.xlsx",
        "unit_code": "chaoyang",
        "month": MONTH,
        "n_errors": 1,
        "message": None,
        "source": None,
    }
    return notify.rejection(cfg, sub, tmp_path / "quarantine")


def _text_parts(raw: bytes) -> list[tuple[str, str | None]]:
    """(content type, declared charset) of every text part, read from the bytes as a client would."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    return [(p.get_content_type(), p.get_param("charset")) for p in msg.walk() if p.get_content_maintype() == "text"]


def _check(raw: bytes, unit_name: str) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    parts = _text_parts(raw)
    assert len(parts) == 2 and all(charset == "utf-8" for _, charset in parts), parts
    assert re.search(r"\+0800$", str(msg["Date"])), msg["Date"]
    assert str(msg["Subject"]).startswith(f"[{MONTH} {unit_name}] ")
    [report] = [p for p in msg.iter_attachments() if p.get_filename() == "report.txt"]
    assert report.get_content() == REPORT  # decoded by its declared charset, no mojibake
    return msg


def test_a_rejection_over_smtp_declares_utf8_everywhere_and_is_dated_in_beijing(
    smtp: SmtpServer, cfg: Config, tmp_path: Path
) -> None:
    sink = SmtpSink(SmtpSettings(host=smtp.host, port=smtp.port))
    sink.deliver(build_message(_rejection(cfg, tmp_path), "fupin@office.example.org"))
    [raw] = smtp.capture.raw
    msg = _check(raw, cfg.unit("chaoyang").name)
    assert "未通过校验" in msg.get_body(preferencelist=("plain",)).get_content()


def test_the_outbox_eml_says_the_same(cfg: Config, tmp_path: Path) -> None:
    delivery = OutboxSink(tmp_path / "outbox").deliver(build_message(_rejection(cfg, tmp_path), "f@o.example.org"))
    _check(Path(delivery.detail).read_bytes(), cfg.unit("chaoyang").name)


def test_the_date_zone_is_the_calendars(cfg: Config) -> None:
    assert cfg.calendar.timezone == OFFICE_TIMEZONE


def test_every_subject_starts_with_month_and_unit(cfg: Config, tmp_path: Path) -> None:
    unit = cfg.unit("chaoyang")
    sub = {"unit_code": unit.code, "month": MONTH, "version": 2, "is_late": True, "submission_id": 1}
    sub |= {"original_name": "x.xlsx", "n_warnings": 0, "source": None}
    book = tmp_path / "汇总.xlsx"
    book.write_bytes(b"PK")
    mails = [
        notify.receipt(cfg, sub),
        notify.reminder(cfg, unit, MONTH),
        notify.labor_list(unit, MONTH, "https://p.example"),
        notify.publication(cfg, MONTH, 1, book, 1, "摘要"),
    ]
    prefixes = [m.subject.split("] ", 1)[0] + "]" for m in mails]
    assert prefixes == [f"[{MONTH} {unit.name}]"] * 3 + [f"[{MONTH} 全市汇总]"]
    assert "逾期" in mails[0].subject and "第2版，已替换第1版" in mails[0].subject
