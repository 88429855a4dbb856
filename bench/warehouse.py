"""Benchmark: three years of synthetic months on SQLite and PostgreSQL; time the ten example queries of docs/queries.md,
and on PostgreSQL the re-load of one month of people, partitioned by month against one plain table.

Usage: python bench/warehouse.py [--units 60] [--months 36] [--laborers 50000] [--pg postgresql://...] [--no-pg]
                                 [--reload-months 12] [--per-month 350000] [--no-reload]
Each query runs `--repeat` times after one warm-up; the baseline, measured in the same run, is a full count of the
fact table, so the ratios say how a query compares with reading every stored value once. The retention counts a
labor load refreshes (its month and the next) are timed too: that is what the load pays for Q9's speed.

The re-load: two tables hold the same people, made in the server (generate_series), `--per-month` in each of
`--reload-months` months. One month is replaced: on the plain table by DELETE of its submission and INSERT, on the
partitioned one by TRUNCATE of its partition and INSERT (and by DELETE routed to the one partition). Each is timed to
its commit, median of `--repeat`; the plain table's dead rows are left for autovacuum, as they would be.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

from config import Config, Unit, load_config
from core.month import month_key, month_range, shift_month
from tasks.analyst.queries import parse_queries
from warehouse.engine import make_engine
from warehouse.init import init_warehouse
from warehouse.partition import is_partition, partition_name
from warehouse.retention import rebuild_retention
from warehouse.synthetic import Plan, load_synthetic

DOC = Path(__file__).resolve().parents[1] / "docs" / "queries.md"
BASELINE = "SELECT COUNT(*) FROM fct_indicator_value"
LAST_MONTH = "2020-12"
TARGET = 0.1  # seconds: every documented query, median of the runs (issue 18)
PERSON = "restricted_labor_person"
COLUMNS = (
    "submission_id, district_key, person_key, month_key, origin_key, is_insured, name, id_masked, employer, "
    "insurance_status, source_row"
)


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
        refresh = []
        for _ in range(repeat):
            start = time.perf_counter()
            with conn.begin() as tx:
                rebuild_retention(conn, [month_key(plan.months[-2]), month_key(plan.months[-1])])
                refresh.append(time.perf_counter() - start)
                tx.rollback()
        print(
            f"retention refresh at a labor load (two months × 16 districts): {statistics.median(refresh) * 1000:.0f} ms"
        )
        base = statistics.median(timed(conn, BASELINE, repeat))
        print(f"{'query':<6}{'median ms':>10}{'max ms':>9}{'× baseline':>12}  median under 100 ms")
        print(f"{'base':<6}{base * 1000:>10.1f}{'':>9}{1:>12.2f}")
        for q in parse_queries(DOC.read_text(encoding="utf-8")):
            times = timed(conn, q.sql, repeat)
            med, worst = statistics.median(times), max(times)
            rows.append((name, q.qid, med, worst, med / base, med < TARGET))
            met = "yes" if med < TARGET else "NO"
            print(f"{q.qid:<6}{med * 1000:>10.1f}{worst * 1000:>9.1f}{med / base:>12.2f}  {met}")
    engine.dispose()
    return rows


def fill_month(conn: Connection, table: str, sid: int, key: int, n: int) -> None:
    """n people of one month, keyed and spread over the 16 districts as a load writes them (in key order)."""
    conn.execute(
        text(
            f"INSERT INTO {table} ({COLUMNS}) "
            "SELECT :sid, 1 + g % 16, sha256(int8send(g)), :key, 1 + g % 200, g % 23 <> 0, '劳动者' || g, "
            "'000000********' || lpad((g % 10000)::text, 4, '0'), '', '在保', g + 2 "
            "FROM generate_series(1, :n) AS g ORDER BY 1 + g % 16, sha256(int8send(g))"
        ),
        {"sid": sid, "key": key, "n": n},
    )


def timed_commits(engine: Engine, step: Callable[[Connection], None], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat + 1):  # the first is a warm-up
        start = time.perf_counter()
        with engine.begin() as conn:
            step(conn)
        out.append(time.perf_counter() - start)
    return out[1:]


def bench_reload(url: str, months: list[str], per_month: int, repeat: int) -> None:
    """Re-load one month of the person table on PostgreSQL: partitioned by month against one plain table."""
    engine = make_engine(url)
    init_warehouse(engine, load_config(), months=months)
    keys = [month_key(m) for m in months]
    start = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE plain_person (LIKE {PERSON} INCLUDING DEFAULTS)"))
        conn.execute(
            text("ALTER TABLE plain_person ADD PRIMARY KEY (submission_id, district_key, person_key, month_key)")
        )
        for sid, key in enumerate(keys, start=1):
            fill_month(conn, PERSON, sid, key, per_month)
            fill_month(conn, "plain_person", sid, key, per_month)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        size = conn.execute(text("SELECT pg_size_pretty(pg_total_relation_size('plain_person'))")).scalar()
    print(
        f"\npartitions: {len(keys)} months × {per_month:,} people in each table ({size} each), "
        f"made in {time.perf_counter() - start:.0f} s"
    )

    sid = len(keys) // 2 + 1
    key = keys[sid - 1]
    part = partition_name(key)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE month_rows AS SELECT * FROM {PERSON} WHERE month_key = {key}"))

    def plain(conn: Connection) -> None:
        conn.execute(text(f"DELETE FROM plain_person WHERE submission_id = {sid}"))
        conn.execute(text("INSERT INTO plain_person SELECT * FROM month_rows ORDER BY district_key, person_key"))

    def truncated(conn: Connection) -> None:
        conn.execute(text(f"TRUNCATE {part}"))
        conn.execute(text(f"INSERT INTO {PERSON} SELECT * FROM month_rows ORDER BY district_key, person_key"))

    def deleted(conn: Connection) -> None:
        conn.execute(text(f"DELETE FROM {PERSON} WHERE month_key = {key} AND submission_id = {sid}"))
        conn.execute(text(f"INSERT INTO {PERSON} SELECT * FROM month_rows ORDER BY district_key, person_key"))

    results = {
        name: timed_commits(engine, step, repeat)
        for name, step in (("plain", plain), ("truncate", truncated), ("delete", deleted))
    }
    base = statistics.median(results["plain"])
    print(f"\nreload of {months[sid - 1]} ({per_month:,} people), median of {repeat}:")
    print(f"{'layout':<44}{'median s':>10}{'max s':>8}{'× plain':>9}")
    labels = {
        "plain": "plain table: DELETE submission + INSERT",
        "truncate": "partitioned: TRUNCATE partition + INSERT",
        "delete": "partitioned: DELETE (one partition) + INSERT",
    }
    for name, times in results.items():
        med = statistics.median(times)
        print(f"{labels[name]:<44}{med:>10.2f}{max(times):>8.2f}{med / base:>9.2f}")
    with engine.connect() as conn:
        plan = "\n".join(conn.execute(text(f"EXPLAIN DELETE FROM {PERSON} WHERE month_key = {key}")).scalars())
    touched = sorted({w for w in plan.split() if is_partition(w)})
    print(f"\nEXPLAIN DELETE … WHERE month_key = {key} touches: {', '.join(touched)}")
    engine.dispose()


@contextmanager
def scratch_database(server: str) -> Iterator[str]:
    """A new database on the server, dropped after."""
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"fupin_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
    parser.add_argument("--reload-months", type=int, default=12)
    parser.add_argument("--per-month", type=int, default=350_000)
    parser.add_argument("--no-reload", action="store_true")
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
        with scratch_database(args.pg) as url:
            results += bench("postgres", url, cfg, plan, args.repeat)
        if not args.no_reload:
            with scratch_database(args.pg) as url:
                reload_months = month_range(shift_month(LAST_MONTH, 1 - args.reload_months), LAST_MONTH)
                bench_reload(url, list(reload_months), args.per_month, args.repeat)
    slow = [r for r in results if not r[5]]
    print(
        f"\n{len(results) - len(slow)} of {len(results)} queries answered in under 100 ms (median)"
        + (f"; slow: {[(r[0], r[1]) for r in slow]}" if slow else "")
    )


if __name__ == "__main__":
    main()
