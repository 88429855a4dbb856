"""Property: after any sequence of submissions and re-submissions, loaded in any order, the current warehouse state
equals the state built from the latest received version of each unit-month alone."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select

from config import Config
from contracts.parsed import ParsedReport
from fupin.demo.reports import write_filled_report
from tasks.intake.archive import sha256_of
from tasks.report.load import Receipt, load_report
from tasks.report.parse import parse_report
from warehouse.schema import (
    fct_indicator_value,
    fct_review_transition,
    fct_submission,
    fct_validation_issue,
    fct_warning_explanation,
)

MONTHS = ("2020-09", "2020-10")
T0 = dt.datetime(2020, 10, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def pool(cfg: Config, tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, ParsedReport]]:
    """Three different versions of two units' reports for two months, parsed once."""
    out = tmp_path_factory.mktemp("versions")
    units = [next(u for u in cfg.units if u.form_code == code) for code in ("表1", "表3")]
    parsed = []
    for unit in units:
        for month in MONTHS:
            for seed in range(3):
                path = write_filled_report(cfg, unit, month, out / f"{unit.code}_{month}_{seed}.xlsx", seed)
                data = path.read_bytes()
                report = parse_report.fn(data, f"{unit.code}_{month}_{seed}.xlsx", cfg)
                assert not report.issues
                parsed.append((sha256_of(data), report))
    return parsed


def _clear(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in (
            fct_review_transition,
            fct_warning_explanation,
            fct_indicator_value,
            fct_validation_issue,
            fct_submission,
        ):
            conn.execute(delete(table))


def _load(engine: Engine, cfg: Config, items: list[tuple[int, str, ParsedReport]]) -> None:
    """Load (minute received, sha, report) in the given order: the order of loading may differ from receipt."""
    for minute, sha, report in items:
        receipt = Receipt(sha, report.file_name, f"archive/{sha}.xlsx", T0 + dt.timedelta(minutes=minute))
        load_report.fn(engine, report, cfg, receipt, [], [])


def _current(engine: Engine) -> set[tuple]:
    s, v = fct_submission, fct_indicator_value
    query = select(s.c.sha256, v.c.unit_key, v.c.month_key, v.c.indicator_key, v.c.region_key, v.c.value, v.c.remark)
    with engine.connect() as conn:
        return set(conn.execute(query.join(s, s.c.submission_id == v.c.submission_id).where(s.c.is_current)))


def _versions_follow_receipt(engine: Engine) -> None:
    s = fct_submission
    with engine.connect() as conn:
        rows = conn.execute(
            select(s.c.unit_key, s.c.month_key, s.c.version, s.c.is_current).order_by(
                s.c.unit_key, s.c.month_key, s.c.received_at
            )
        ).all()
    groups: dict[tuple, list] = {}
    for r in rows:
        groups.setdefault((r.unit_key, r.month_key), []).append(r)
    for group in groups.values():
        assert [r.version for r in group] == list(range(1, len(group) + 1))
        assert [r.is_current for r in group] == [False] * (len(group) - 1) + [True]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.integers(0, 11), min_size=1, max_size=8), data=st.data())
def test_current_state_is_latest_version_alone(
    picks: list[int], data, pool, cfg: Config, sqlite_engine: Engine
) -> None:
    received = [(minute, *pool[i]) for minute, i in enumerate(picks)]
    first_seen: dict[str, tuple] = {}
    for item in received:
        first_seen.setdefault(item[1], item)  # the same bytes again are a duplicate of their first receipt
    distinct = sorted(first_seen.values(), key=lambda item: item[0])
    order = data.draw(st.permutations(distinct), label="load order")
    resent = [item for item in received if first_seen[item[1]] is not item]
    _clear(sqlite_engine)
    _load(sqlite_engine, cfg, [*order, *resent])
    got = _current(sqlite_engine)
    _versions_follow_receipt(sqlite_engine)

    latest: dict[tuple[str, str], tuple] = {}
    for item in distinct:
        latest[(item[2].unit.code, item[2].month)] = item
    _clear(sqlite_engine)
    _load(sqlite_engine, cfg, list(latest.values()))
    assert got == _current(sqlite_engine)
