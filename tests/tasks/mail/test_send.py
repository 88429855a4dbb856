"""Mail sinks against a real SMTP server: Chinese attachment names, STARTTLS + login, retries, refusals, fct_mail."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from core.settings import Settings, SmtpSettings
from tasks.mail.record import send_and_record
from tasks.mail.send import (
    SECRET_BLOCK,
    XLSX_MIME,
    Attachment,
    Mail,
    MailError,
    OutboxSink,
    SmtpSink,
    build_message,
    sink_from_settings,
    smtp_password,
)
from tests.smtp_capture import PASSWORD, USER, SmtpServer, plain_server, tls_server
from warehouse.schema import fct_mail

NAME = "北京市扶贫支援重点数据报告表_汇总_2020-09_v1.xlsx"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    yield from plain_server()


@pytest.fixture
def smtp_tls_server(tmp_path: Path) -> Iterator[SmtpServer]:
    yield from tls_server(tmp_path)


def _mail(**kw) -> Mail:
    base = {
        "kind": "publication",
        "to": ("zonghechu@office.example.org", "leaders@office.example.org"),
        "subject": "【汇总】2020-09 第1版",
        "body": "附件为汇总。",
        "attachments": (Attachment(NAME, b"PK\x03\x04xlsx"),),
        "month": "2020-09",
    }
    return Mail(**{**base, **kw})


def test_attachment_is_xlsx_with_rfc2231_chinese_name(smtp_server) -> None:
    sink = SmtpSink(SmtpSettings(host=smtp_server.host, port=smtp_server.port))
    delivery = sink.deliver(build_message(_mail(), "fupin@office.example.org"))
    assert delivery.status == "sent"
    [msg] = smtp_server.capture.messages
    [part] = list(msg.iter_attachments())
    assert part.get_content_type() == XLSX_MIME
    assert part.get_filename() == NAME
    assert re.search(rb"filename\*(0\*)?=utf-8''%E5%8C%97%E4%BA%AC", smtp_server.capture.raw[0])  # RFC 2231
    assert part.get_content() == b"PK\x03\x04xlsx"
    assert msg["Subject"] == "【汇总】2020-09 第1版"
    assert sorted(smtp_server.capture.envelopes[0]) == ["leaders@office.example.org", "zonghechu@office.example.org"]


def test_starttls_and_login_when_configured(smtp_tls_server) -> None:
    smtp = SmtpSettings(
        host=smtp_tls_server.host, port=smtp_tls_server.port, user=USER, password=SecretStr(PASSWORD), starttls=True
    )
    sink = sink_from_settings(Settings(home=Path("."), warehouse_url="sqlite://", smtp=smtp))
    assert isinstance(sink, SmtpSink)
    sink.deliver(build_message(_mail(), "fupin@office.example.org"))
    assert smtp_tls_server.capture.logins == [USER]
    assert len(smtp_tls_server.capture.messages) == 1


def test_without_starttls_the_server_refuses_permanently(smtp_tls_server) -> None:
    smtp = SmtpSettings(host=smtp_tls_server.host, port=smtp_tls_server.port, user=USER, password=SecretStr(PASSWORD))
    with pytest.raises(MailError, match="AUTH"):
        SmtpSink(smtp, PASSWORD, sleep=lambda s: None).deliver(build_message(_mail(), "fupin@office.example.org"))
    assert smtp_tls_server.capture.messages == []


def test_transient_failure_is_retried_with_backoff(smtp_server, sqlite_engine) -> None:
    smtp_server.capture.answers[:] = ["451 4.3.0 try again later", "421 4.7.0 busy"]
    waits: list[float] = []
    sink = SmtpSink(SmtpSettings(host=smtp_server.host, port=smtp_server.port), sleep=waits.append, backoff=0.5)
    delivery = send_and_record(sqlite_engine, sink, _mail(), "fupin@office.example.org")
    assert delivery.status == "sent" and waits == [0.5, 1.0]
    assert len(smtp_server.capture.messages) == 1
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(fct_mail.c.status, fct_mail.c.kind)).all() == [("sent", "publication")]


def test_permanent_failure_raises_the_server_answer_and_is_not_marked_sent(smtp_server, sqlite_engine) -> None:
    smtp_server.capture.answers[:] = ["550 5.7.1 attachment rejected by policy"]
    sink = SmtpSink(SmtpSettings(host=smtp_server.host, port=smtp_server.port), sleep=lambda s: None)
    with pytest.raises(MailError, match="550 5.7.1 attachment rejected by policy"):
        send_and_record(sqlite_engine, sink, _mail(), "fupin@office.example.org")
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(fct_mail.c.status)).scalars().all() == ["failed"]
    assert smtp_server.capture.messages == []


def test_unreachable_server_fails_after_the_retries() -> None:
    waits: list[float] = []
    sink = SmtpSink(SmtpSettings(host="127.0.0.1", port=1), attempts=3, backoff=1, sleep=waits.append, timeout=2)
    with pytest.raises(MailError, match="unreachable"):
        sink.deliver(build_message(_mail(), "fupin@office.example.org"))
    assert waits == [1, 2]


def test_outbox_sink_writes_an_eml_that_parses_back(tmp_path: Path, sqlite_engine) -> None:
    sink = sink_from_settings(Settings(home=tmp_path, warehouse_url="sqlite://"))
    assert isinstance(sink, OutboxSink)
    delivery = send_and_record(sqlite_engine, sink, _mail(), "fupin@office.example.org")
    path = Path(delivery.detail)
    assert delivery.status == "written" and path.parent == tmp_path / "outbox" and path.suffix == ".eml"
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert [p.get_filename() for p in msg.iter_attachments()] == [NAME]
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(fct_mail.c.status, fct_mail.c.detail)).one() == ("written", str(path))


@pytest.mark.prefect
def test_password_falls_back_to_the_prefect_secret_block(prefect_api) -> None:
    from prefect.blocks.system import Secret

    Secret(value="from-the-block").save(SECRET_BLOCK, overwrite=True)
    assert smtp_password(SmtpSettings(host="h", user="u")) == "from-the-block"
    assert smtp_password(SmtpSettings(host="h", user="u", password=SecretStr("from-env"))) == "from-env"
    assert smtp_password(SmtpSettings(host="h")) is None
