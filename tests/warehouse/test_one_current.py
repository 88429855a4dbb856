"""One current submission per kind, unit and month, kept by the database itself; the upgrade mends older races."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from config import Config
from warehouse import migrate
from warehouse.engine import make_engine
from warehouse.schema import dim_unit, fct_submission
from warehouse.seed import seed_dimensions

BEFORE = "c8af26bbf34f"  # the revision before the partial unique index
AT = dt.datetime(2020, 10, 5, 2, tzinfo=dt.UTC)


def _labor_row(unit_key: int, n: int, **values: object) -> dict:
    return {
        "kind": "labor",
        "sha256": f"{n:064d}",
        "original_name": f"v{n}.csv",
        "archive_path": "a",
        "received_at": AT + dt.timedelta(minutes=n),
        "unit_key": unit_key,
        "month_key": 202009,
        "status": "accepted",
        "version": 1,
        "is_current": True,
        **values,
    }


def _hr(conn, cfg: Config) -> int:
    return conn.execute(select(dim_unit.c.unit_key).where(dim_unit.c.unit_code == cfg.labor.sender_unit)).scalar_one()


def test_a_second_current_version_is_refused(engine: Engine, cfg: Config) -> None:
    with engine.begin() as conn:
        hr = _hr(conn, cfg)
        conn.execute(insert(fct_submission).values(**_labor_row(hr, 1)))
        conn.execute(insert(fct_submission).values(**_labor_row(hr, 2, is_current=False, version=2)))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(fct_submission).values(**_labor_row(hr, 3, version=3)))
    with engine.begin() as conn:
        conn.execute(insert(fct_submission).values(**_labor_row(hr, 4, kind="report")))


def test_upgrade_keeps_only_the_latest_of_two_current_versions(warehouse_url: str, cfg: Config) -> None:
    engine = make_engine(warehouse_url)
    try:
        with engine.begin() as conn:
            command.upgrade(migrate.alembic_config(connection=conn), BEFORE)
        with engine.begin() as conn:
            seed_dimensions(conn, cfg, ["2020-09"])
            hr = _hr(conn, cfg)
            conn.execute(insert(fct_submission), [_labor_row(hr, 1), _labor_row(hr, 2), _labor_row(hr, 3)])
        with engine.begin() as conn:
            migrate.upgrade(conn)
        with engine.connect() as conn:
            current = conn.execute(select(fct_submission.c.original_name).where(fct_submission.c.is_current)).all()
            assert migrate.pending_changes(conn) == []
        assert [r[0] for r in current] == ["v3.csv"]
    finally:
        engine.dispose()
