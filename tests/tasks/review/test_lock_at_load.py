"""A real file for a locked month is recorded rejected, in the load's own transaction, with the lock and whom to ask;
a reopened unit may send one until its reopen expires; the load records the 待审 transition itself."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from config import Config
from core.month import month_key
from fupin.demo.facts import received_on
from tasks.review.actions import approve
from tasks.review.lock import lock_month, reopen_unit
from tasks.review.states import APPROVED, LOCKED, PENDING, UNREPORTED, unit_review
from tasks.review.transitions import history
from tests.review_fixture import load_file, write_report
from warehouse.schema import dim_unit, fct_submission

MONTH = "2020-09"


def _state(engine: Engine, unit_code: str, month: str) -> str:
    with engine.connect() as conn:
        key = conn.execute(select(dim_unit.c.unit_key).where(dim_unit.c.unit_code == unit_code)).scalar_one()
        return unit_review(conn, key, month_key(month), dt.datetime.now(dt.UTC)).state


def test_a_file_for_a_locked_month_is_rejected_naming_the_lock_and_whom_to_ask(
    engine: Engine, cfg: Config, tmp_path: Path
) -> None:
    unit, other = cfg.unit("dongcheng"), cfg.unit("xicheng")
    at = received_on(cfg, dt.date(2020, 10, 8))
    first = load_file(engine, cfg, write_report(cfg, unit, MONTH, tmp_path, "v1.xlsx"), at, "inbox:dongcheng/v1.xlsx")
    load_file(engine, cfg, write_report(cfg, other, MONTH, tmp_path, "o1.xlsx"), at)
    with engine.connect() as conn:
        [submit] = history(conn, unit.code, MONTH)
    assert (submit.action, submit.from_state, submit.to_state) == ("submit", UNREPORTED, PENDING)
    assert (submit.actor, submit.submission_id) == ("inbox:dongcheng/v1.xlsx", first.submission_id)
    approve(engine, unit.code, MONTH, "cli:reviewer")
    lock_month(engine, cfg, MONTH, "cli:zhang")

    again = write_report(cfg, unit, MONTH, tmp_path / "again", "v2.xlsx")
    refused = load_file(engine, cfg, _other_bytes(again), at + dt.timedelta(days=5))
    assert refused.status == "rejected" and refused.locked is not None and refused.locked.rule == "month_locked"
    text = refused.refusal or ""
    assert "锁定" in text and "locked" in text and "cli:zhang" in text and cfg.mail.office[0] in text
    with engine.connect() as conn:
        row = conn.execute(
            select(fct_submission)
            .where(fct_submission.c.submission_id != first.submission_id)
            .where(fct_submission.c.status == "rejected")
        ).one()
    assert row.version is None and not row.is_current and "重新开放" in row.message and "reopen" in row.message
    assert _state(engine, unit.code, MONTH) == LOCKED

    opened = reopen_unit(engine, unit.code, MONTH, "cli:zhang", "东城区更正第2行")
    assert opened.to_state == APPROVED
    fixed = load_file(engine, cfg, _other_bytes(again, 2), at + dt.timedelta(days=6))
    assert (fixed.status, fixed.version) == ("accepted", 2)
    assert _state(engine, unit.code, MONTH) == PENDING, "the new version awaits review"
    with engine.connect() as conn:
        last = history(conn, unit.code, MONTH)[-1]
    assert (last.action, last.from_state, last.to_state) == ("submit", APPROVED, PENDING)
    # the other unit was not reopened
    assert load_file(engine, cfg, _other_bytes(write_report(cfg, other, MONTH, tmp_path, "o2.xlsx")), at).locked


def test_an_expired_reopen_locks_the_unit_again(engine: Engine, cfg: Config, tmp_path: Path) -> None:
    unit = cfg.unit("chaoyang")
    at = received_on(cfg, dt.date(2020, 10, 8))
    load_file(engine, cfg, write_report(cfg, unit, MONTH, tmp_path, "v1.xlsx"), at)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    lock_month(engine, cfg, MONTH, "cli:zhang", now=long_ago)
    reopen_unit(engine, unit.code, MONTH, "cli:zhang", "更正", days=3, now=long_ago + dt.timedelta(hours=1))
    assert _state(engine, unit.code, MONTH) == LOCKED
    assert load_file(engine, cfg, _other_bytes(write_report(cfg, unit, MONTH, tmp_path, "v2.xlsx")), at).locked


def test_a_lock_waits_for_a_load_in_flight_and_locks_what_it_loaded(
    engine: Engine, cfg: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The load checks the lock under the unit's row lock, which the month's lock takes too: they never interleave."""
    unit = cfg.unit("haidian")
    path = write_report(cfg, unit, MONTH, tmp_path, "v1.xlsx")
    inside = threading.Event()

    def pause(name: str) -> None:  # the load pauses inside its transaction, and says so
        if name == "load":
            inside.set()
            time.sleep(2)

    monkeypatch.setattr("tasks.report.load.pause_at", pause)
    results: list = []
    loading = threading.Thread(
        target=lambda: results.append(load_file(engine, cfg, path, received_on(cfg, dt.date(2020, 10, 8))))
    )
    loading.start()
    assert inside.wait(60), "the load never reached its transaction"
    started = time.monotonic()
    [moved] = [t for t in lock_month(engine, cfg, MONTH, "cli:zhang") if t.unit_code == unit.code]
    loading.join()
    assert time.monotonic() - started > 0.5, "the lock waited for the load"
    [loaded] = results
    assert loaded.status == "accepted"
    assert (moved.from_state, moved.submission_id) == (PENDING, loaded.submission_id)


def _other_bytes(path: Path, n: int = 1) -> Path:
    """The same workbook with a different 报送时间 (new bytes, so a new file)."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb.worksheets[0]
    ws["A1"].value = f"{ws['A1'].value or ''}{' ' * n}"
    out = path.with_name(f"{path.stem}_{n}.xlsx")
    wb.save(out)
    return out
