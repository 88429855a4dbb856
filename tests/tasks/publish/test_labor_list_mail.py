"""A district's labor-list e-mail says the list is ready and links to the platform's download; it never attaches the
list, and carries no name or identity number. With the platform off (FUPIN_WEB_URL=off) the list goes attached,
encrypted with the district's password. Over real SMTP and the outbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import email
import email.policy
import io
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, select

from config import Config
from core.settings import Paths, Settings, SmtpSettings
from fupin.web.unit import router
from tasks.audit.pii_scan import Needles, scan_outbox
from tasks.labor.lists import list_path
from tasks.mail.locked_lists import list_passwords
from tasks.mail.send import OutboxSink, SmtpSink, build_message
from tasks.publish import notify, steps
from tasks.publish.notify import LABOR_LIST_ROUTE, PLATFORM_OFF
from tests.smtp_capture import SmtpServer, plain_server
from tests.tasks.mail.test_locked_lists import decrypt
from warehouse.schema import fct_mail
from warehouse.seed import ensure_months

MONTH = "2020-09"
NAME, ID_NUMBER = "张小明", "11010519491231002X"
WEB_URL = "https://fupin.office.example.org/"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    yield from plain_server()


def _real_list(path: Path) -> Path:
    """A district list as the labor flow writes one: an xlsx naming people."""
    wb = Workbook()
    wb.active.append(["姓名", "公民身份号码(脱敏)"])
    wb.active.append([NAME, ID_NUMBER])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def test_the_link_is_the_platforms_own_download_route() -> None:
    assert LABOR_LIST_ROUTE in {getattr(r, "path", None) for r in router.routes}


def test_the_web_url_comes_from_fupin_web_url() -> None:
    assert Settings.from_env({"FUPIN_WEB_URL": "https://p.example/"}).web_url == "https://p.example"
    assert Settings.from_env({}).web_url == "http://127.0.0.1:8000"


def test_a_labor_list_mail_links_and_attaches_nothing(
    engine: Engine, smtp: SmtpServer, cfg: Config, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        ensure_months(conn, cfg, [MONTH])
    paths = Paths(tmp_path)
    chaoyang = cfg.unit("chaoyang")
    _real_list(list_path(paths.outputs / MONTH / "labor", MONTH, chaoyang.name))
    sink = SmtpSink(SmtpSettings(host=smtp.host, port=smtp.port))

    sent = steps.send_labor_lists(engine, cfg, MONTH, paths, WEB_URL, sink, "fupin@office.example.org")

    [mail] = smtp.capture.messages
    assert len(sent) == 1 and mail["To"] == chaoyang.email
    assert not list(mail.iter_attachments()) and not mail.is_multipart()
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert f"https://fupin.office.example.org/unit/labor-list?month={MONTH}" in body
    assert NAME not in body and ID_NUMBER not in body and ".xlsx" not in body
    with engine.connect() as conn:
        assert conn.execute(select(fct_mail.c.kind, fct_mail.c.status)).all() == [("labor_list", "sent")]
    assert steps.send_labor_lists(engine, cfg, MONTH, paths, WEB_URL, sink, "x@y.z") == [], "once per month"


def test_with_the_platform_off_the_list_goes_encrypted_and_the_scan_finds_nothing(
    engine: Engine, cfg: Config, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        ensure_months(conn, cfg, [MONTH])
    paths = Paths(tmp_path)
    chaoyang = cfg.unit("chaoyang")
    plain_list = _real_list(list_path(paths.outputs / MONTH / "labor", MONTH, chaoyang.name))
    sink = OutboxSink(paths.outbox)

    [sent] = steps.send_labor_lists(engine, cfg, MONTH, paths, PLATFORM_OFF, sink, "fupin@office.example.org")

    eml = Path(sent.detail).read_bytes()
    mail = email.message_from_bytes(eml, policy=email.policy.default)
    [part] = list(mail.iter_attachments())
    password = list_passwords(tmp_path / steps.SECRETS_DIR, [chaoyang.code])[chaoyang.code]
    assert mail["To"] == chaoyang.email and part.get_filename().endswith(".xlsx")
    assert password not in eml.decode("ascii", errors="replace") and "电话" in mail.get_body().get_content()
    sheet = openpyxl.load_workbook(io.BytesIO(decrypt(part.get_content(), password))).active
    assert [c.value for c in sheet[2]] == [NAME, ID_NUMBER]
    needles = Needles(frozenset({NAME}), (password,))
    assert scan_outbox(paths.outbox, needles) == []
    assert steps.send_labor_lists(engine, cfg, MONTH, paths, PLATFORM_OFF, sink, "x@y.z") == [], "once per month"

    plain = notify.locked_labor_list(chaoyang, MONTH, plain_list.name, plain_list.read_bytes())
    OutboxSink(paths.outbox).deliver(build_message(plain, "fupin@office.example.org"))
    assert {f.kind for f in scan_outbox(paths.outbox, needles)} == {"id_number", "name"}, "a plain list is a leak"
