"""Receipts and rejections go out right after each ingest (the inbox sweep, one ingest-file run), once; a mail that
cannot go leaves the file's outcome alone and stays owed; the close then sends the workbook and only what is owed.
All in-process with no Prefect API (an unroutable PREFECT_API_URL makes any call fail), over real SMTP."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from config import Config
from flows.ingest_file import ingest_file
from flows.intake import ingest_paths, sweep_inbox
from flows.monthly_close import monthly_close
from flows.publish_month import publish_month
from flows.runtime import Runtime, load_runtime
from fupin.demo.reports import write_filled_report
from tests.flows.conftest import SmtpInbox, free_port
from warehouse.init import init_warehouse
from warehouse.schema import fct_mail

MONTH = "2020-09"


@pytest.fixture
def no_prefect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")


@pytest.fixture
def rt(no_prefect, fupin_home: Path, smtp_inbox: SmtpInbox, cfg: Config) -> Iterator[Runtime]:
    """A SQLite warehouse in FUPIN_HOME, mail through the test's SMTP server."""
    runtime = load_runtime()
    init_warehouse(runtime.engine, cfg, months=["2020-12"])
    yield runtime
    runtime.engine.dispose()


def _subjects(inbox: SmtpInbox) -> list[str]:
    return sorted(str(m["Subject"]).split("] ", 1)[1][:4] + m["To"] for m in inbox.messages)


def test_the_sweep_mails_each_file_once(rt: Runtime, smtp_inbox: SmtpInbox, cfg: Config) -> None:
    good, bad = cfg.unit("dongcheng"), cfg.unit("xicheng")
    inbox = rt.settings.paths.inbox
    write_filled_report(cfg, good, MONTH, inbox / "a.xlsx")
    write_filled_report(cfg, bad, MONTH, inbox / bad.code / "b.xlsx", cells={(10, "合计"): 120})

    sweep = sweep_inbox(rt, record=False)

    assert sorted(o.status for o in sweep.outcomes) == ["accepted", "rejected"]
    assert _subjects(smtp_inbox) == sorted([f"【回执】{good.email}", f"【退回】{bad.email}"])
    shutil.copyfile(inbox / "done" / "a.xlsx", inbox / "a-again.xlsx")  # the same bytes, handed in again
    assert [o.status for o in sweep_inbox(rt, record=False).outcomes] == []
    assert len(smtp_inbox.messages) == 2


def test_an_ingest_file_run_mails_at_its_end(rt: Runtime, smtp_inbox: SmtpInbox, cfg: Config, tmp_path) -> None:
    unit = cfg.unit("haidian")
    path = write_filled_report(cfg, unit, MONTH, tmp_path / "h.xlsx")
    assert ingest_file.fn(str(path))["status"] == "accepted"
    assert _subjects(smtp_inbox) == [f"【回执】{unit.email}"]
    assert ingest_file.fn(str(path))["status"] == "duplicate" and len(smtp_inbox.messages) == 1


def test_the_close_sends_only_the_workbook(rt: Runtime, smtp_inbox: SmtpInbox, cfg: Config, tmp_path) -> None:
    unit = cfg.unit("dongcheng")
    ingest_paths(rt, [write_filled_report(cfg, unit, MONTH, tmp_path / "d.xlsx")], record=False)
    assert _subjects(smtp_inbox) == [f"【回执】{unit.email}"]

    closed = monthly_close.fn(month=MONTH)

    assert closed["publication"]["version"] == 1
    [workbook] = smtp_inbox.messages[1:]
    assert "] 【汇总】" in workbook["Subject"] and [a.get_filename() for a in workbook.iter_attachments()]


def test_a_mail_that_cannot_go_keeps_the_file_and_stays_owed_for_the_close(
    rt: Runtime, smtp_inbox: SmtpInbox, cfg: Config, tmp_path, monkeypatch, caplog
) -> None:
    unit = cfg.unit("dongcheng")
    monkeypatch.setenv("FUPIN_SMTP_PORT", str(free_port()))  # nothing listens there
    down = load_runtime()
    path = write_filled_report(cfg, unit, MONTH, tmp_path / "d.xlsx")
    with caplog.at_level(logging.WARNING, logger="fupin"):
        [outcome] = ingest_paths(down, [path], record=False)
    assert outcome.status == "accepted" and outcome.version == 1, "the file's outcome stands"
    [said] = [r for r in caplog.records if "still owed" in r.getMessage()]
    assert "1 receipt(s)" in said.getMessage()
    with rt.engine.connect() as conn:
        assert conn.execute(select(fct_mail.c.kind, fct_mail.c.status)).all() == [("receipt", "failed")]
    assert smtp_inbox.messages == []

    monkeypatch.setenv("FUPIN_SMTP_PORT", str(smtp_inbox.port))  # the server is back
    result = publish_month.fn(MONTH, send=True)

    assert sorted(str(m["Subject"]).split("] ", 1)[1][:4] for m in smtp_inbox.messages) == ["【回执】", "【汇总】"]
    assert smtp_inbox.messages[0]["To"] == unit.email, "the owed receipt goes first, then the workbook"
    assert len(result["sent"]) == 2
    assert publish_month.fn(MONTH, send=True)["sent"] == [] and len(smtp_inbox.messages) == 2
