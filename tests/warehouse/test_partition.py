"""The person table by month: one PostgreSQL partition per month, so loading or dropping a month touches only it."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, insert, select, text

from config import Config
from fupin.demo.labor import generate_labor, small_counts, write_csv
from tasks.intake.archive import sha256_of
from tasks.labor.load import FileFacts, load_labor
from tasks.labor.read import read_labor
from tasks.labor.validate import validate_labor
from warehouse import migrate
from warehouse.engine import make_engine
from warehouse.init import init_warehouse
from warehouse.partition import is_partition, partition_name, person_partitions
from warehouse.schema import dim_district, dim_unit, fct_labor_retention, fct_submission, restricted_labor_person
from warehouse.seed import seed_dimensions
from warehouse.synthetic import Plan, load_synthetic

BEFORE = "6e548cbae628"  # the revision before the month_key column and the partitions


@pytest.fixture
def pg(pg_url: str, cfg: Config) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    init_warehouse(engine, cfg, months=["2020-12"])
    yield engine
    engine.dispose()


def per_partition(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        got = conn.execute(text("SELECT tableoid::regclass::text, count(*) FROM restricted_labor_person GROUP BY 1"))
        return dict(got.tuples().all())


def test_every_month_has_its_partition_and_each_row_lands_in_its_own(pg: Engine, cfg: Config) -> None:
    with pg.connect() as conn:
        months = conn.execute(text("SELECT month_key FROM dim_month")).scalars().all()
        assert set(person_partitions(conn)) == set(months) and 202012 in months
    load_synthetic(pg, cfg, Plan(months=("2020-08", "2020-09"), laborers=300))
    with pg.connect() as conn:
        wrong = conn.execute(
            text(
                f"SELECT count(*) FROM restricted_labor_person WHERE tableoid::regclass::text <> '{partition_name(0)}'"
                " || '' AND tableoid::regclass::text <> 'restricted_labor_person_' || month_key"
            )
        ).scalar_one()
    assert wrong == 0
    assert set(per_partition(pg)) == {partition_name(202008), partition_name(202009)}


def test_reloading_a_month_adds_to_its_partition_only(pg: Engine, cfg: Config, tmp_path: Path) -> None:
    load_synthetic(pg, cfg, Plan(months=("2020-08", "2020-09"), laborers=300))
    before = per_partition(pg)
    path = write_csv(generate_labor(cfg, *small_counts(cfg, 2000), seed=4), tmp_path / "sep_v2.csv")
    received = dt.datetime(2020, 10, 20, tzinfo=dt.UTC)
    facts = FileFacts(sha256_of(path.read_bytes()), path.name, "archive/x", received, "2020-09")
    result = load_labor(pg, cfg, facts, validate_labor(read_labor(path, cfg), cfg), b"test-key")
    assert result.version == 2
    after = per_partition(pg)
    assert after[partition_name(202008)] == before[partition_name(202008)]
    assert after[partition_name(202009)] == before[partition_name(202009)] + result.persons


@pytest.mark.parametrize(
    ("sql", "month"),
    [
        ("DELETE FROM restricted_labor_person WHERE month_key = 202009", 202009),
        (
            "SELECT count(*) FROM restricted_labor_person WHERE month_key = 202008 AND submission_id = 1 "
            "AND district_key = 3",
            202008,
        ),
    ],
)
def test_a_month_s_statement_plans_its_partition_alone(pg: Engine, sql: str, month: int) -> None:
    with pg.connect() as conn:
        plan = "\n".join(conn.execute(text(f"EXPLAIN {sql}")).scalars())
    assert person_partitions_in(plan) == {partition_name(month)}, plan


def person_partitions_in(plan: str) -> set[str]:
    return {word for word in plan.replace("(", " ").split() if is_partition(word)}


def test_the_retention_refresh_reads_two_months_partitions(pg: Engine, cfg: Config) -> None:
    from warehouse.retention import kept_by_district

    load_synthetic(pg, cfg, Plan(months=("2020-07", "2020-08", "2020-09"), laborers=300))
    with pg.connect() as conn:
        sids = dict(
            conn.execute(
                select(fct_submission.c.month_key, fct_submission.c.submission_id).where(
                    fct_submission.c.kind == "labor"
                )
            )
            .tuples()
            .all()
        )
        query = kept_by_district(sids[202009], 202009, sids[202008], 202008)
        compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
        plan = "\n".join(conn.execute(text(f"EXPLAIN {compiled}")).scalars())
    assert person_partitions_in(plan) == {partition_name(202008), partition_name(202009)}, plan


def test_upgrade_gives_old_people_their_month_and_counts_retention(warehouse_url: str, cfg: Config) -> None:
    engine = make_engine(warehouse_url)
    try:
        with engine.begin() as conn:
            command.upgrade(migrate.alembic_config(connection=conn), BEFORE)
        with engine.begin() as conn:
            seed_dimensions(conn, cfg, ["2020-09"])
            hr = conn.execute(select(dim_unit.c.unit_key).where(dim_unit.c.unit_code == cfg.labor.sender_unit)).scalar()
            district = conn.execute(select(dim_district.c.district_key).order_by(dim_district.c.sort_order)).first()
            sids = []
            for n, month in enumerate((202008, 202009)):
                sids.append(
                    conn.execute(
                        insert(fct_submission)
                        .values(
                            kind="labor",
                            sha256=f"{n:064d}",
                            original_name=f"{month}.csv",
                            archive_path="a",
                            received_at=dt.datetime(2020, 10, 1, tzinfo=dt.UTC),
                            unit_key=hr,
                            month_key=month,
                            status="accepted",
                            version=1,
                            is_current=True,
                        )
                        .returning(fct_submission.c.submission_id)
                    ).scalar_one()
                )
            people = [(sids[0], p) for p in range(5)] + [(sids[1], p) for p in range(2, 9)]
            columns = (
                "submission_id, district_key, person_key, origin_key, is_insured, name, id_masked, "
                "insurance_status, source_row"
            )
            for sid, p in people:
                conn.execute(
                    text(
                        f"INSERT INTO restricted_labor_person ({columns}) VALUES "
                        "(:s, :d, :k, 1, TRUE, 'x', '000000********0000', '在保', :r)"
                    ),
                    {"s": sid, "d": district[0], "k": hashlib.sha256(bytes([p])).digest(), "r": p + 2},
                )
        with engine.begin() as conn:
            migrate.upgrade(conn)
        with engine.connect() as conn:
            assert migrate.pending_changes(conn) == []
            months = conn.execute(
                select(restricted_labor_person.c.submission_id, restricted_labor_person.c.month_key).distinct()
            ).all()
            september = conn.execute(
                select(
                    fct_labor_retention.c.persons,
                    fct_labor_retention.c.kept,
                    fct_labor_retention.c.gone,
                    fct_labor_retention.c.new,
                ).where(fct_labor_retention.c.month_key == 202009, fct_labor_retention.c.district_key == district[0])
            ).one()
        assert sorted(months) == [(sids[0], 202008), (sids[1], 202009)]
        assert tuple(september) == (7, 3, 2, 4)
        if engine.dialect.name == "postgresql":
            assert set(per_partition(engine)) == {partition_name(202008), partition_name(202009)}
    finally:
        engine.dispose()
