"""The review's transition table, one case per arrow (refused moves included), each recorded with actor, time,
from-state, to-state and reason; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select

from config import Config
from core.month import Month, month_key
from fupin.demo.facts import insert_report, received_on
from tasks.review.actions import approve, return_report
from tasks.review.lock import lock_month, reopen_unit
from tasks.review.states import (
    APPROVED,
    LOCKED,
    PENDING,
    RETURNED,
    UNREPORTED,
    ReviewRefused,
    unit_review,
)
from tasks.review.transitions import history
from warehouse.schema import dim_unit, fct_review_transition
from warehouse.seed import ensure_months

NOW = dt.datetime(2021, 3, 1, 8, 0, tzinfo=dt.UTC)
ACTOR = "cli:reviewer"
REFUSED = "refused"
# (from state, action) -> the state it leads to, or REFUSED. A new file for a locked month is refused by the loader
# (tests/tasks/review/test_lock_at_load.py), so it is not a review action here.
TABLE = {
    (UNREPORTED, "submit"): PENDING,
    (UNREPORTED, "approve"): REFUSED,
    (UNREPORTED, "return"): REFUSED,
    (UNREPORTED, "lock"): LOCKED,
    (UNREPORTED, "reopen"): REFUSED,
    (PENDING, "submit"): PENDING,
    (PENDING, "approve"): APPROVED,
    (PENDING, "return"): RETURNED,
    (PENDING, "lock"): LOCKED,
    (PENDING, "reopen"): REFUSED,
    (APPROVED, "submit"): PENDING,
    (APPROVED, "approve"): REFUSED,
    (APPROVED, "return"): RETURNED,
    (APPROVED, "lock"): LOCKED,
    (APPROVED, "reopen"): REFUSED,
    (RETURNED, "submit"): PENDING,
    (RETURNED, "approve"): REFUSED,
    (RETURNED, "return"): REFUSED,
    (RETURNED, "lock"): LOCKED,
    (RETURNED, "reopen"): REFUSED,
    (LOCKED, "approve"): REFUSED,
    (LOCKED, "return"): REFUSED,
    (LOCKED, "lock"): REFUSED,
    (LOCKED, "reopen"): APPROVED,  # back to the state it was locked in
}


def _state(engine: Engine, unit_code: str, month: str, now: dt.datetime = NOW) -> str:
    with engine.connect() as conn:
        key = conn.execute(select(dim_unit.c.unit_key).where(dim_unit.c.unit_code == unit_code)).scalar_one()
        return unit_review(conn, key, month_key(month), now).state


def _submit(engine: Engine, cfg: Config, unit_code: str, month: str, day: int) -> None:
    with engine.begin() as conn:
        ensure_months(conn, cfg, [month])
        insert_report(conn, cfg, cfg.unit(unit_code), month, received_on(cfg, dt.date(2021, 2, day)))


def _reach(engine: Engine, cfg: Config, unit_code: str, month: str, state: str) -> None:
    """Bring the unit's month to `state` the way the office would."""
    if state == UNREPORTED:
        return
    _submit(engine, cfg, unit_code, month, 1)
    if state in (APPROVED, LOCKED):
        approve(engine, unit_code, month, ACTOR, NOW)
    if state == RETURNED:
        return_report(engine, unit_code, month, ACTOR, "第2行口径有误", NOW)
    if state == LOCKED:
        lock_month(engine, cfg, month, ACTOR, "月结", now=NOW)


def _act(engine: Engine, cfg: Config, unit_code: str, month: str, action: str) -> None:
    if action == "submit":
        _submit(engine, cfg, unit_code, month, 2)
    elif action == "approve":
        approve(engine, unit_code, month, ACTOR, NOW)
    elif action == "return":
        return_report(engine, unit_code, month, ACTOR, "请核实第3行", NOW)
    elif action == "lock":
        lock_month(engine, cfg, month, ACTOR, "审核完毕", now=NOW)
    else:
        reopen_unit(engine, unit_code, month, ACTOR, "区里要更正第5行", now=NOW)


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(fct_review_transition)).scalar_one()


@pytest.mark.parametrize(("start", "action"), list(TABLE), ids=[f"{s}-{a}" for s, a in TABLE])
def test_each_arrow_of_the_transition_table(module_engine: Engine, cfg: Config, start: str, action: str) -> None:
    month = Month("2021-01").shift(
        list(TABLE).index((start, action))
    )  # each case its own month, so a lock touches only its own
    unit = cfg.units[3].code
    _reach(module_engine, cfg, unit, month, start)
    assert _state(module_engine, unit, month) == start
    before = _count(module_engine)
    expected = TABLE[(start, action)]
    if expected == REFUSED:
        with pytest.raises(ReviewRefused):
            _act(module_engine, cfg, unit, month, action)
        assert _count(module_engine) == before, "a refused move records nothing"
        assert _state(module_engine, unit, month) == start
        return
    _act(module_engine, cfg, unit, month, action)
    assert _state(module_engine, unit, month) == expected
    if action == "submit":
        return  # a version written straight to the warehouse; the loader's own record is tested with real files
    with module_engine.connect() as conn:
        mine = [t for t in history(conn, unit, month) if t.action == action]
    last = mine[-1]
    assert (last.from_state, last.to_state, last.actor, last.acted_at) == (start, expected, ACTOR, NOW)
    assert (last.reason is not None) == (action in ("return", "lock", "reopen"))


def test_a_return_without_a_reason_is_refused_and_leaves_no_trace(module_engine: Engine, cfg: Config) -> None:
    month, unit = "2024-01", cfg.units[4].code
    _reach(module_engine, cfg, unit, month, PENDING)
    before = _count(module_engine)
    for blank in ("", "   "):
        with pytest.raises(ReviewRefused, match="退回必须注明原因"):
            return_report(module_engine, unit, month, ACTOR, blank, NOW)
    assert _count(module_engine) == before and _state(module_engine, unit, month) == PENDING


def test_a_reopen_opens_one_unit_and_expires(module_engine: Engine, cfg: Config) -> None:
    month, (a, b) = "2024-02", (cfg.units[5].code, cfg.units[6].code)
    for unit in (a, b):
        _reach(module_engine, cfg, unit, month, PENDING)
    lock_month(module_engine, cfg, month, ACTOR, now=NOW)
    t = reopen_unit(module_engine, a, month, ACTOR, "更正", days=3, now=NOW + dt.timedelta(hours=1))
    assert t.expires_at == NOW + dt.timedelta(days=3, hours=1) and (t.from_state, t.to_state) == (LOCKED, PENDING)
    assert _state(module_engine, a, month, NOW + dt.timedelta(days=2)) == PENDING
    assert _state(module_engine, b, month, NOW + dt.timedelta(days=2)) == LOCKED, "the others stay locked"
    assert _state(module_engine, a, month, NOW + dt.timedelta(days=3, hours=2)) == LOCKED, "expired"
    with pytest.raises(ReviewRefused, match="须注明原因|必须注明原因"):
        reopen_unit(module_engine, b, month, ACTOR, "", now=NOW)
    # Locking again while a unit is open ends its reopen at once.
    [again] = lock_month(module_engine, cfg, month, ACTOR, now=NOW + dt.timedelta(days=1))
    assert (again.unit_code, again.from_state) == (a, PENDING)
    assert _state(module_engine, a, month, NOW + dt.timedelta(days=1, hours=1)) == LOCKED
