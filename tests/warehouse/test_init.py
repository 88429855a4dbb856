"""`init` creates, upgrades and seeds the warehouse idempotently, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import Engine, func, select

from config import Config, load_config
from warehouse import migrate
from warehouse.init import init_warehouse
from warehouse.schema import (
    dim_indicator,
    dim_month,
    dim_region,
    dim_unit,
    dim_unit_alias,
    fct_indicator_value,
    fct_submission,
    metadata,
)


def _snapshot(engine: Engine) -> dict[str, list]:
    with engine.connect() as conn:
        return {t.name: sorted(map(tuple, conn.execute(select(t)).all()), key=repr) for t in metadata.sorted_tables}


def test_init_twice_changes_nothing(engine: Engine, cfg: Config) -> None:
    before = _snapshot(engine)
    changed = init_warehouse(engine, cfg, months=["2020-12"])
    assert set(changed.values()) == {0}
    assert _snapshot(engine) == before


def test_dimensions_are_seeded_from_config(engine: Engine, cfg: Config) -> None:
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(dim_indicator)) == 124
        assert conn.scalar(select(func.count()).select_from(dim_unit)) == len(cfg.units)
        assert conn.execute(select(dim_region.c.region).order_by(dim_region.c.sort_order)).scalars().all() == [
            "合计",
            "内蒙古",
            "河北",
            "西藏",
            "青海",
            "新疆",
            "其他",
        ]
        months = conn.execute(select(dim_month.c.month).order_by(dim_month.c.month_key)).scalars().all()
        assert months[0] == cfg.calendar.first_month and months[-1] == "2020-12"
        row = (
            conn.execute(
                select(dim_indicator)
                .where(dim_indicator.c.row_no == 27)
                .where(dim_indicator.c.parent_row_no.is_not(None))
            )
            .mappings()
            .first()
        )
        assert row["parent_row_no"] == 26 and row["kind"] == "count"


def test_migrations_match_the_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        assert migrate.pending_changes(conn) == []
    from alembic.script import ScriptDirectory

    assert len(ScriptDirectory.from_config(migrate.alembic_config()).get_heads()) == 1


def _edited_config(tmp_path: Path) -> Path:
    for f in Path(load_config().directory).glob("*.yaml"):
        shutil.copy(f, tmp_path)
    units = tmp_path / "units.yaml"
    text = units.read_text(encoding="utf-8")
    text = text.replace("{code: pinggu, name: 平谷区}", "{code: pinggu, name: 平谷区, aliases: [平谷区政府]}")
    text = text.replace("bureaus:  ", "bureaus:  ").replace(
        "  - {code: public-security,",
        "  - {code: audit, name: 市审计局, official_name: 北京市审计局}\n  - {code: public-security,",
    )
    units.write_text(text, encoding="utf-8")
    return tmp_path


def test_config_edit_changes_dimensions_without_touching_facts(engine: Engine, cfg: Config, tmp_path: Path) -> None:
    with engine.begin() as conn:
        unit_key = conn.scalar(select(dim_unit.c.unit_key).where(dim_unit.c.unit_code == "pinggu"))
        sid = conn.execute(
            fct_submission.insert().values(
                kind="report",
                sha256="0" * 64,
                original_name="x.xlsx",
                archive_path="a",
                received_at=func.now(),
                unit_key=unit_key,
                month_key=202009,
                status="accepted",
                version=1,
                is_current=True,
            )
        ).inserted_primary_key[0]
        ind = conn.scalar(select(dim_indicator.c.indicator_key).limit(1))
        conn.execute(
            fct_indicator_value.insert().values(
                submission_id=sid, indicator_key=ind, region_key=1, unit_key=unit_key, month_key=202009, value=3.5
            )
        )
    facts_before = _snapshot(engine)["fct_indicator_value"]

    edited = load_config(_edited_config(tmp_path))
    changed = init_warehouse(engine, edited, months=["2020-12"])
    assert changed["dim_unit"] >= 1 and changed["dim_unit_alias"] >= 3
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(dim_unit)) == len(cfg.units) + 1
    assert edited.resolve_unit("平谷区政府").code == "pinggu"
    with engine.connect() as conn:
        aliases = conn.execute(select(dim_unit_alias.c.alias)).scalars().all()
        assert "平谷区政府" in aliases and "市审计局" in aliases
    assert _snapshot(engine)["fct_indicator_value"] == facts_before

    init_warehouse(engine, cfg, months=["2020-12"])
    with engine.connect() as conn:
        audit = conn.execute(select(dim_unit.c.is_active).where(dim_unit.c.unit_code == "audit")).scalar_one()
        assert audit is False
        assert "平谷区政府" not in conn.execute(select(dim_unit_alias.c.alias)).scalars().all()
    assert _snapshot(engine)["fct_indicator_value"] == facts_before
