"""The analyst views on SQLite and PostgreSQL, checked against figures computed here from the synthetic plan."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from config import Config
from warehouse.synthetic import Plan, load_synthetic, ytd_value
from warehouse.views import all_views
from warehouse.views.analyst import shared_concepts

PLAN = Plan(months=("2020-07", "2020-08", "2020-09"), laborers=200)


@pytest.fixture
def loaded(engine: Engine, cfg: Config) -> Engine:
    load_synthetic(engine, cfg, PLAN)
    return engine


def rows(engine: Engine, sql: str, **params) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql), params)]


def current_version(unit, month: str) -> int | None:
    if month == PLAN.months[-1] and unit.sort_order % PLAN.missing_every == 0:
        return None
    return 2 if unit.sort_order % PLAN.restate_every == 0 else 1


def test_every_view_has_exactly_its_documented_columns(engine: Engine) -> None:
    with engine.connect() as conn:
        for view in all_views():
            names = list(conn.execute(text(f"SELECT * FROM {view.name} WHERE 1 = 0")).keys())
            assert names == list(view.columns), view.name
            assert view.grain and all(view.columns.values()), view.name


def test_history_keeps_every_version_and_marks_the_current_one(loaded: Engine, cfg: Config) -> None:
    unit = next(u for u in cfg.units if u.sort_order % PLAN.restate_every == 0)
    got = rows(
        loaded,
        "SELECT version, is_current, value, original_name FROM v_indicator_history "
        "WHERE unit_code = :u AND month = '2020-08' AND row_no = 1 AND region = :t ORDER BY version",
        u=unit.code,
        t=cfg.total_column,
    )
    assert [(r["version"], bool(r["is_current"])) for r in got] == [(1, False), (2, True)]
    assert [r["value"] for r in got] == [ytd_value(cfg, unit, 1, 0, "2020-08", v) for v in (1, 2)]
    assert got[1]["original_name"].endswith("_v2.xlsx")


def test_submission_view_tells_late_from_on_time(loaded: Engine, cfg: Config) -> None:
    got = rows(
        loaded,
        "SELECT unit_code, version, is_late, on_time, status FROM v_submission "
        "WHERE month = '2020-07' AND kind = 'report'",
    )
    late = {(r["unit_code"], r["version"]) for r in got if r["is_late"]}
    assert late == {(u.code, 1) for u in cfg.units if u.sort_order % PLAN.late_every == 0} | {
        (u.code, 2) for u in cfg.units if u.sort_order % PLAN.restate_every == 0
    }, "restatements come after the 10th"
    assert all(bool(r["on_time"]) != bool(r["is_late"]) for r in got)
    assert {r["unit_code"] for r in got if r["status"] == "rejected"} == {
        u.code for u in cfg.units if u.sort_order % PLAN.reject_every == 0
    }


def test_completeness_counts_units_that_reported_and_their_rates(loaded: Engine, cfg: Config) -> None:
    got = rows(loaded, "SELECT * FROM v_completeness WHERE month = '2020-09'")
    assert len(got) == len(cfg.units)
    reported = {r["unit_code"] for r in got if r["reported"]}
    assert reported == {u.code for u in cfg.units if current_version(u, "2020-09")}
    on_time = {u.code for u in cfg.units if current_version(u, "2020-09") and u.sort_order % PLAN.late_every}
    assert {r["unit_code"] for r in got if r["on_time"]} == on_time
    first = got[0]
    assert (first["n_expected"], first["n_reported"], first["n_on_time"]) == (
        len(cfg.units),
        len(reported),
        len(on_time),
    )
    assert float(first["reporting_rate"]) == pytest.approx(100 * len(reported) / len(cfg.units))
    assert float(first["on_time_rate"]) == pytest.approx(100 * len(on_time) / len(cfg.units))


def expected_concept(cfg: Config, concept: str, month: str) -> dict[str, tuple[float, float | None]]:
    """(value, value_month) per form and 合计, summed over units from the plan's own arithmetic."""
    out: dict[str, list[float]] = {}
    for ind in cfg.concepts[concept]:
        value = inc = 0.0
        for unit in cfg.units_of_form(ind.form_code):
            version = current_version(unit, month)
            if version is None:
                continue
            now = ytd_value(cfg, unit, ind.row_no, 0, month, version)
            value += now
            inc += now - ytd_value(cfg, unit, ind.row_no, 0, "2020-08", current_version(unit, "2020-08"))
        out[ind.form_code] = [value, inc]
    out[cfg.total_column] = [sum(v[0] for v in out.values()), sum(v[1] for v in out.values())]
    return {k: (round(v[0], 4), round(v[1], 4)) for k, v in out.items()}


def test_concept_month_sums_each_form_and_the_city(loaded: Engine, cfg: Config) -> None:
    concept = "consumption_aid_amount"
    assert concept in shared_concepts(cfg)
    got = rows(
        loaded,
        "SELECT form_code, value, value_month FROM v_concept_month WHERE month = '2020-09' AND concept = :c",
        c=concept,
    )
    assert {
        r["form_code"]: (round(float(r["value"]), 4), round(float(r["value_month"]), 4)) for r in got
    } == expected_concept(cfg, concept, "2020-09")
    first = rows(loaded, "SELECT value_month FROM v_concept_month WHERE month = '2020-07' AND concept = :c", c=concept)
    assert first and all(r["value_month"] is None for r in first), "no June report: no guessed increment"
    only_one_form = {c for c, rs in cfg.concepts.items() if len({r.form_code for r in rs}) == 1}
    listed = {r["concept"] for r in rows(loaded, "SELECT DISTINCT concept FROM v_concept_month")}
    assert listed == set(shared_concepts(cfg)) and not listed & only_one_form


def test_january_increment_is_its_year_to_date_and_rates_have_none(engine: Engine, cfg: Config) -> None:
    load_synthetic(engine, cfg, Plan(months=("2021-01",), restate_every=0, missing_every=0))
    got = rows(
        engine,
        "SELECT form_code, value, value_month FROM v_concept_month WHERE month = '2021-01' "
        "AND concept = 'consumption_aid_amount'",
    )
    assert got and all(r["value_month"] is not None and float(r["value_month"]) == float(r["value"]) for r in got)


def test_retention_counts_kept_gone_and_new_people(loaded: Engine) -> None:
    got = rows(loaded, "SELECT * FROM v_labor_retention ORDER BY month, district")
    by_month: dict[str, list[dict]] = {}
    for r in got:
        by_month.setdefault(r["month"], []).append(r)
    assert set(by_month) == set(PLAN.months)
    assert all(r["kept"] is None for r in by_month["2020-07"])
    people = rows(
        loaded,
        "SELECT d.district, m.month, p.person_key FROM restricted_labor_person p "
        "JOIN dim_district d ON d.district_key = p.district_key "
        "JOIN fct_submission s ON s.submission_id = p.submission_id JOIN dim_month m ON m.month_key = s.month_key "
        "WHERE p.is_insured = TRUE",
    )
    sets: dict[tuple[str, str], set[str]] = {}
    for p in people:
        sets.setdefault((p["month"], p["district"]), set()).add(p["person_key"])
    for r in by_month["2020-08"]:
        now, before = sets.get(("2020-08", r["district"]), set()), sets.get(("2020-07", r["district"]), set())
        assert (r["persons"], r["kept"], r["gone"], r["new"]) == (
            len(now),
            len(now & before),
            len(before - now),
            len(now - before),
        ), r["district"]
    assert sum(r["gone"] for r in by_month["2020-08"]) > 0
