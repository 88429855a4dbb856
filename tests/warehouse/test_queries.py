"""Run every example question of docs/queries.md on the demo data, on SQLite and PostgreSQL, and check its answer."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from config import Config, Unit, load_config
from fupin.demo.reports import report_values
from tasks.analyst.queries import answer, parse_queries, render_table, replace_answers
from warehouse.synthetic import Plan, load_synthetic

DOC = Path(__file__).resolve().parents[2] / "docs" / "queries.md"


def demo_cells(cfg: Config, unit: Unit, month: str, version: int) -> dict[tuple[int, str], float | None]:
    """The shared demo figures (fupin.demo.reports); a restatement is the demo generator's next seed."""
    frame = report_values(cfg, unit, month, seed=version - 1)
    return {
        (int(rec["row_no"]), column): rec[column]
        for rec in frame.to_dict("records")
        for column in cfg.columns(unit.form_code)
    }


DEMO = Plan(months=("2020-06", "2020-07", "2020-08", "2020-09"), laborers=600, cells=demo_cells)
QUERIES = parse_queries(DOC.read_text(encoding="utf-8"))


def run(engine: Engine, sql: str) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    with engine.connect() as conn:
        result = conn.execute(text(sql))
        return tuple(result.keys()), answer(list(result.keys()), result.all())


@pytest.fixture
def demo(engine: Engine, cfg: Config) -> Engine:
    load_synthetic(engine, cfg, DEMO)
    return engine


def test_there_are_ten_documented_questions() -> None:
    assert [q.qid for q in QUERIES] == [f"Q{n}" for n in range(1, 11)]
    assert all(q.rows for q in QUERIES), "every question has a non-empty expected answer"


def test_every_example_query_gives_its_documented_answer(demo: Engine) -> None:
    for q in QUERIES:
        columns, rows = run(demo, q.sql)
        assert columns == q.columns, q.qid
        assert rows == q.rows, f"{q.qid}. {q.title}"


def test_queries_read_views_only() -> None:
    from warehouse.schema import metadata

    for q in QUERIES:
        assert not any(f" {name}" in q.sql for name in metadata.tables), q.qid


if __name__ == "__main__":
    # Refresh the answer tables from a fresh SQLite warehouse loaded with the demo data.
    import tempfile

    from warehouse.engine import make_engine
    from warehouse.init import init_warehouse

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/demo.db")
        cfg = load_config()
        init_warehouse(engine, cfg, months=["2020-12"])
        load_synthetic(engine, cfg, DEMO)
        tables = {q.qid: render_table(*run(engine, q.sql)) for q in QUERIES}
        engine.dispose()
    DOC.write_text(replace_answers(DOC.read_text(encoding="utf-8"), tables), encoding="utf-8")
    sys.stdout.write(f"refreshed {len(tables)} answers in {DOC}\n")
