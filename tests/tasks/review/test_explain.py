"""Warnings' 说明 with real files: explained and accepted, carried to a new version while the value is unchanged, raised
again once it changes; a 备注 on the warned row is its 说明; and the reviewer's accept or query is on record."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from config import Config
from fupin.demo.facts import received_on
from tasks.review.explain import (
    ACCEPTED,
    EXPLAINED,
    QUERIED,
    UNEXPLAINED,
    decide_explanation,
    explain_warnings,
    month_warnings,
)
from tasks.review.states import ReviewRefused
from tests.review_fixture import load_file, plain_row, total_of, write_report
from warehouse.schema import fct_submission, fct_warning_explanation

AUGUST, MONTH = "2020-08", "2020-09"


@pytest.fixture
def warned(engine: Engine, cfg: Config, tmp_path: Path):
    """A front post whose September total of a free row fell below August's: one ytd_decrease warning."""
    unit = cfg.units_of_form("表3")[0]
    row = plain_row(cfg.form("表3"))
    low = total_of(cfg, unit, AUGUST, row) - 1
    load_file(engine, cfg, write_report(cfg, unit, AUGUST, tmp_path, "aug.xlsx"), received_on(cfg, dt.date(2020, 9, 8)))
    at = received_on(cfg, dt.date(2020, 10, 8))
    first = load_file(engine, cfg, write_report(cfg, unit, MONTH, tmp_path, "v1.xlsx", {row: low}), at)
    return unit, row, low, first, at


def _mine(engine: Engine, unit_code: str):
    with engine.connect() as conn:
        return [w for w in month_warnings(conn, MONTH) if w.unit_code == unit_code]


def test_an_accepted_explanation_is_carried_while_the_value_is_unchanged(
    engine: Engine, cfg: Config, tmp_path: Path, warned
) -> None:
    unit, row, low, first, at = warned
    [w] = _mine(engine, unit.code)
    assert (w.rule, w.row_no, w.status, w.unexplained) == ("ytd_decrease", row, UNEXPLAINED, True)
    explain_warnings(engine, first.submission_id, {w.key: "8月多计了一个项目，9月已更正"}, "web:hotan-clerk")
    assert _mine(engine, unit.code)[0].status == EXPLAINED
    decide_explanation(engine, w.issue_id, ACCEPTED, "cli:reviewer")
    assert _mine(engine, unit.code)[0].status == ACCEPTED

    # v2 changes another row only: the explained warning on the unchanged value is not raised again.
    other = next(r.row_no for r in cfg.form("表3").rows if r.row_no not in (1, row) and r.kind == "count")
    changes = {row: low, other: total_of(cfg, unit, MONTH, other) + 1}
    second = load_file(engine, cfg, write_report(cfg, unit, MONTH, tmp_path, "v2.xlsx", changes), at)
    assert (second.status, second.version, second.n_warnings) == ("accepted", 2, 0), second
    assert _mine(engine, unit.code) == []
    with engine.connect() as conn:
        carried = conn.execute(select(fct_warning_explanation).order_by(fct_warning_explanation.c.explanation_id)).all()
        n = conn.execute(
            select(fct_submission.c.n_warnings).where(fct_submission.c.submission_id == second.submission_id)
        )
    assert carried[-1].carried_from == carried[0].explanation_id and carried[-1].decision == "accepted"
    assert n.scalar_one() == 0

    # v3 changes the warned value itself: raised again, unexplained.
    third = load_file(engine, cfg, write_report(cfg, unit, MONTH, tmp_path, "v3.xlsx", {row: low - 1}), at)
    [again] = _mine(engine, unit.code)
    assert (third.n_warnings, again.status, again.submission_id) == (1, UNEXPLAINED, third.submission_id)


def test_a_remark_on_the_warned_row_is_its_explanation(engine: Engine, cfg: Config, tmp_path: Path, warned) -> None:
    unit, row, low, _, at = warned
    path = write_report(cfg, unit, MONTH, tmp_path, "v2.xlsx", {row: low}, remarks={row: "口径调整，见说明函"})
    load_file(engine, cfg, path, at, "web:hotan-clerk")
    [w] = _mine(engine, unit.code)
    assert (w.status, w.explanation, w.unexplained) == (EXPLAINED, "口径调整，见说明函", False)


def test_a_queried_explanation_counts_as_unexplained_and_decisions_are_final(
    engine: Engine, cfg: Config, warned
) -> None:
    unit, _, _, first, _ = warned
    [w] = _mine(engine, unit.code)
    with pytest.raises(ReviewRefused, match="尚无说明"):
        decide_explanation(engine, w.issue_id, ACCEPTED, "cli:reviewer")
    with pytest.raises(ReviewRefused, match="no warning at"):
        explain_warnings(engine, first.submission_id, {"表3!Z99": "x"}, "web:clerk")
    with pytest.raises(ReviewRefused, match="empty"):
        explain_warnings(engine, first.submission_id, {w.key: "  "}, "web:clerk")
    explain_warnings(engine, first.submission_id, {w.key: "笔误"}, "web:clerk")
    with pytest.raises(ReviewRefused, match="question"):
        decide_explanation(engine, w.issue_id, QUERIED, "cli:reviewer")
    decide_explanation(engine, w.issue_id, QUERIED, "cli:reviewer", "请附项目清单")
    [queried] = _mine(engine, unit.code)
    assert (queried.status, queried.query, queried.unexplained) == (QUERIED, "请附项目清单", True)
    with pytest.raises(ReviewRefused, match="already queried"):
        decide_explanation(engine, w.issue_id, ACCEPTED, "cli:reviewer")
