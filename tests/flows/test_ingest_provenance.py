"""Where each file came from is recorded; a unit's own inbox folder refuses another unit's file; a new version's
receipt says what it replaced; a figure beyond the warehouse's bounds is a located rejection on both databases."""

from __future__ import annotations

import email
import email.policy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from config import Config
from flows.ingest_file import ingest_file
from flows.notify_submissions import notify_submissions
from fupin.demo.bad_files_bounds import HUGE_ROW, huge_figure
from fupin.demo.report_fixtures import cell
from fupin.demo.reports import write_filled_report
from tasks.intake.provenance import os_user
from tasks.intake.scan import new_inbox_files
from tasks.report.workbook import SUFFIXES
from tests.flows.test_ingest_file import _env, submissions
from tests.reliability.conftest import facts
from warehouse.schema import fct_indicator_value, fct_validation_issue

pytestmark = pytest.mark.prefect
MONTH = "2020-09"


@pytest.fixture
def env(prefect_api, fupin_home: Path, warehouse_url: str, cfg: Config, monkeypatch) -> Iterator[SimpleNamespace]:
    """FUPIN_HOME and a warehouse on SQLite and on PostgreSQL, as a flow run reads them at its start."""
    yield from _env(fupin_home, warehouse_url, cfg, monkeypatch)


def _issues(env: SimpleNamespace, sid: int) -> list:
    with env.engine.connect() as conn:
        return conn.execute(select(fct_validation_issue).where(fct_validation_issue.c.submission_id == sid)).all()


def _outbox(home: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted((home / "outbox").glob("*.eml"))
    ]


def test_a_figure_beyond_the_warehouse_is_a_located_rejection(env, cfg: Config) -> None:
    path = huge_figure(cfg, env.home / "inbox" / "huge.xlsx")
    state = ingest_file(str(path), return_state=True)
    assert state.is_failed() and "rejected" in state.message, state.message
    [row] = submissions(env.engine)
    assert row.status == "rejected"
    [issue] = _issues(env, row.submission_id)
    unit = cfg.units_of_form("表3")[0]
    assert (issue.rule, issue.cell, issue.row_no) == (
        "within_warehouse",
        cell(cfg, unit.code, HUGE_ROW, "合计"),
        HUGE_ROW,
    )
    assert "10的14次方" in issue.message_zh and "10^14" in issue.message_en
    with env.engine.connect() as conn:
        assert conn.execute(select(fct_indicator_value)).first() is None
    assert (env.home / "quarantine" / row.sha256[:16] / "report.json").is_file()


def test_each_file_records_where_it_came_from(env, cfg: Config, tmp_path: Path) -> None:
    inbox = env.home / "inbox"
    units = [u for u in cfg.units_of_form("表1")][:4]
    in_root = write_filled_report(cfg, units[0], MONTH, inbox / "a.xlsx")
    in_folder = write_filled_report(cfg, units[1], MONTH, inbox / units[1].code / "b.xlsx")
    given = write_filled_report(cfg, units[2], MONTH, tmp_path / "c.xlsx")
    plain = write_filled_report(cfg, units[3], MONTH, tmp_path / "d.xlsx")
    ingest_file(str(in_root))
    ingest_file(str(in_folder))
    ingest_file(str(given), source="web:clerk7")
    ingest_file(str(plain))
    assert [(r.original_name, r.status, r.source) for r in submissions(env.engine)] == [
        ("a.xlsx", "accepted", "inbox:a.xlsx"),
        ("b.xlsx", "accepted", f"inbox:{units[1].code}/b.xlsx"),
        ("c.xlsx", "accepted", "web:clerk7"),
        ("d.xlsx", "accepted", f"cli:{os_user()}"),
    ]


def test_another_units_file_in_a_units_folder_is_refused_and_the_folder_told(env, cfg: Config) -> None:
    named, folder = cfg.unit("dongcheng"), cfg.unit("xicheng")
    inbox = env.home / "inbox"
    before = facts(env.engine)
    path = write_filled_report(cfg, named, MONTH, inbox / folder.code / "东城区_9月.xlsx")
    state = ingest_file(str(path), return_state=True)
    assert state.is_failed() and "rejected" in state.message
    [row] = submissions(env.engine)
    assert (row.status, row.source) == ("rejected", f"inbox:{folder.code}/东城区_9月.xlsx")
    [issue] = _issues(env, row.submission_id)
    assert issue.rule == "folder_mismatch"
    assert issue.message_zh.startswith(f"此文件属于{named.name}，却来自{folder.name}的文件夹")
    assert issue.message_en.startswith(f"this file is for {named.name}; it came from {folder.name}'s folder")
    moved = inbox / "rejected" / folder.code / path.name
    assert moved.is_file() and not path.exists(), "a rejected inbox file leaves the inbox for inbox/rejected/"
    kept = env.home / "quarantine" / row.sha256[:16]
    assert [p for p in kept.iterdir() if p.read_bytes() == moved.read_bytes()], "the original must be kept"
    assert json.loads((kept / "report.json").read_text(encoding="utf-8"))["issues"][0]["rule"] == "folder_mismatch"
    assert facts(env.engine) == before

    [mail] = _outbox(env.home)  # sent at the end of the run
    assert mail["To"] == folder.email and "] 【退回】" in mail["Subject"]
    assert (
        f"此文件属于{named.name}，却来自{folder.name}的文件夹" in mail.get_body(preferencelist=("plain",)).get_content()
    )


def test_a_new_versions_receipt_says_it_replaced_the_earlier_one(env, cfg: Config, tmp_path: Path) -> None:
    unit = cfg.unit("dongcheng")
    own = env.home / "inbox" / unit.code
    first = write_filled_report(cfg, unit, MONTH, own / "v1.xlsx", seed=1)
    assert new_inbox_files(env.home / "inbox", env.home / "archive", env.engine, SUFFIXES).files == [first]
    ingest_file(str(first))
    second = write_filled_report(cfg, unit, MONTH, tmp_path / "v2.xlsx", seed=2)
    ingest_file(str(second), source="web:someone")
    assert notify_submissions() == [], "both receipts went out at the end of their runs"
    receipts = {m["Subject"]: m.get_body(preferencelist=("plain",)).get_content() for m in _outbox(env.home)}
    assert len(receipts) == 2
    [one] = [body for subject, body in receipts.items() if "（第1版）" in subject]
    [two] = [body for subject, body in receipts.items() if "第2版，已替换第1版" in subject]
    assert "替换" not in one and f"inbox:{unit.code}/v1.xlsx" in one
    assert "新版本已替换第1版 / a new version replaced version 1" in two and "web:someone" in two


def test_the_sweep_looks_into_units_folders_only(env, cfg: Config, tmp_path: Path) -> None:
    inbox = env.home / "inbox"
    unit = cfg.unit("dongcheng")
    src = write_filled_report(cfg, unit, MONTH, tmp_path / "r.xlsx")
    for folder in (unit.code, "old", "nested/" + unit.code):
        (inbox / folder).mkdir(parents=True)
        shutil.copyfile(src, inbox / folder / f"{folder.replace('/', '_')}.xlsx")
    (inbox / "linked").symlink_to(inbox / unit.code)
    assert new_inbox_files(inbox, env.home / "archive", env.engine, SUFFIXES).files == [
        inbox / unit.code / f"{unit.code}.xlsx"
    ]
