"""docs/queries.md answers as `make demo` leaves the warehouse: the demo runs once, and every query is checked on its
SQLite warehouse and on a PostgreSQL copy of it. After a change to the demo: `python scripts/queries_doc.py`."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import select, text

from config import Config
from tasks.analyst.queries import parse_queries, with_answers
from warehouse.bulk import bulk_insert
from warehouse.engine import make_engine
from warehouse.init import init_warehouse
from warehouse.schema import metadata

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "queries.md"
QUERIES = parse_queries(DOC.read_text(encoding="utf-8"))


def _generator():
    spec = importlib.util.spec_from_file_location("queries_doc", ROOT / "scripts" / "queries_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generator().run_demo(tmp_path_factory.mktemp("demo") / "home")


def test_there_are_ten_documented_questions() -> None:
    assert [q.qid for q in QUERIES] == [f"Q{n}" for n in range(1, 11)]
    assert all(q.rows for q in QUERIES), "every question has a non-empty expected answer"


def test_queries_read_views_only() -> None:
    for q in QUERIES:
        assert not any(f" {name}" in q.sql for name in metadata.tables), q.qid


@pytest.mark.slow
def test_every_answer_is_what_the_demo_month_gives(demo_warehouse: Path) -> None:
    current = DOC.read_text(encoding="utf-8")
    assert _generator().regenerated(demo_warehouse, current) == current, "run `python scripts/queries_doc.py`"


@pytest.mark.slow
@pytest.mark.postgres
def test_postgresql_gives_the_same_answers(demo_warehouse: Path, pg_url: str, cfg: Config) -> None:
    # Every table but the restricted ones (the views count people through fct_labor_retention).
    tables = [t for t in metadata.sorted_tables if not t.name.startswith("restricted_")]
    source, target = make_engine(f"sqlite:///{demo_warehouse}"), make_engine(pg_url)
    try:
        init_warehouse(target, cfg, months=["2020-12"])
        with source.connect() as read, target.begin() as write:
            write.execute(text(f"TRUNCATE {', '.join(t.name for t in tables)} CASCADE"))
            for table in tables:
                bulk_insert(write, table, [tuple(r) for r in read.execute(select(table))], list(table.c.keys()))
        current = DOC.read_text(encoding="utf-8")
        assert with_answers(current, target) == current
    finally:
        source.dispose()
        target.dispose()
