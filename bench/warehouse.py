"""Benchmark: three years of synthetic months on SQLite and PostgreSQL; time the ten example queries of docs/queries.md.

Usage: python bench/warehouse.py [--units 60] [--months 36] [--laborers 50000] [--pg postgresql://...] [--no-pg]
Each query runs `--repeat` times after one warm-up; the baseline, measured in the same run, is a full count of the
fact table, so the ratios say how a query compares with reading every stored value once.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would hide the warehouse package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import dataclasses
import statistics
import tempfile
import time
import uuid

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import Config, Unit, load_config
from core.month import month_range, shift_month
from tasks.analyst.queries import parse_queries
from warehouse.engine import make_engine
from warehouse.init import init_warehouse
from warehouse.synthetic import Plan, load_synthetic

DOC = Path(__file__).resolve().parents[1] / "docs" / "queries.md"
BASELINE = "SELECT COUNT(*) FROM fct_indicator_value"
LAST_MONTH = "2020-12"


def with_units(cfg: Config, total: int) -> Config:
    """The office's units plus synthetic bureaus (表2) until there are `total` of them."""
    extra = [
        Unit(
            code=f"bench-bureau-{n:02d}",
            name=f"测试委办局{n:02d}",
            official_name=f"北京市测试委办局{n:02d}",
            kind="bureau",
            form_code="表2",
            email=f"bench{n}@units.example.org",
            sort_order=len(cfg.units) + n,
        )
        for n in range(1, max(0, total - len(cfg.units)) + 1)
    ]
    return dataclasses.replace(cfg, units=(*cfg.units, *extra))


def timed(conn, sql: str, repeat: int) -> list[float]:
    conn.execute(text(sql)).all()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        conn.execute(text(sql)).all()
        out.append(time.perf_counter() - start)
    return out


def bench(name: str, url: str, cfg: Config, plan: Plan, repeat: int) -> list[tuple]:
    engine = make_engine(url)
    init_warehouse(engine, cfg, months=[plan.months[-1]])
    start = time.perf_counter()
    counts = load_synthetic(engine, cfg, plan)
    load = time.perf_counter() - start
    # On PostgreSQL, what autovacuum would soon do: planner statistics and a visibility map for index-only scans.
    # SQLite is left without statistics, as the pipeline leaves it, so its figures are the unhelped ones.
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    print(f"\n{name}: loaded {counts} in {load:.1f} s")
    rows = []
    with engine.connect() as conn:
        base = statistics.median(timed(conn, BASELINE, repeat))
        print(f"{'query':<6}{'median ms':>10}{'max ms':>9}{'× baseline':>12}  under 1 s")
        print(f"{'base':<6}{base * 1000:>10.1f}{'':>9}{1:>12.2f}")
        for q in parse_queries(DOC.read_text(encoding="utf-8")):
            times = timed(conn, q.sql, repeat)
            med, worst = statistics.median(times), max(times)
            rows.append((name, q.qid, med, worst, med / base, worst < 1.0))
            print(
                f"{q.qid:<6}{med * 1000:>10.1f}{worst * 1000:>9.1f}{med / base:>12.2f}  {'yes' if worst < 1 else 'NO'}"
            )
    engine.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=60)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--laborers", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--pg",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="a PostgreSQL server URL; a scratch database is created on it and dropped after",
    )
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    cfg = with_units(load_config(), args.units)
    plan = Plan(months=tuple(month_range(shift_month(LAST_MONTH, 1 - args.months), LAST_MONTH)), laborers=args.laborers)
    print(
        f"{len(cfg.units)} units, {len(plan.months)} months ({plan.months[0]}..{plan.months[-1]}), "
        f"{args.laborers} people in the labor pool"
    )
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results += bench("sqlite", f"sqlite:///{tmp}/bench.db", cfg, plan, args.repeat)
    if not args.no_pg:
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        name = f"fupin_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
            results += bench("postgres", url, cfg, plan, args.repeat)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    slow = [r for r in results if not r[5]]
    print(
        f"\n{len(results) - len(slow)} of {len(results)} query runs answered in under 1 s"
        + (f"; slow: {[(r[0], r[1]) for r in slow]}" if slow else "")
    )


if __name__ == "__main__":
    main()
