"""Seed the dimensions from config/: insert what is new, update what changed, never touch a fact."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Table, select, update

from config import Config, normalize_text
from core.month import month_range
from warehouse.partition import ensure_person_partitions
from warehouse.schema import (
    dim_district,
    dim_form,
    dim_indicator,
    dim_month,
    dim_origin,
    dim_region,
    dim_unit,
    dim_unit_alias,
)


def _sync(conn: Connection, table: Table, natural: Sequence[str], rows: Iterable[dict]) -> int:
    """Upsert `rows` into `table` by their natural key; returns how many rows were inserted or changed."""
    existing = {tuple(r._mapping[n] for n in natural): r._mapping for r in conn.execute(select(table))}
    changed = 0
    for row in rows:
        key = tuple(row[n] for n in natural)
        old = existing.get(key)
        if old is None:
            conn.execute(table.insert().values(**row))
            changed += 1
        elif any(old[k] != v for k, v in row.items()):
            where = [table.c[n] == row[n] for n in natural]
            conn.execute(update(table).where(*where).values(**row))
            changed += 1
    return changed


def _keys(conn: Connection, table: Table, natural: str, key: str) -> dict:
    return dict(conn.execute(select(table.c[natural], table.c[key])).all())


def seed_dimensions(conn: Connection, cfg: Config, months: Sequence[str] = ()) -> dict[str, int]:
    """Make every dimension match `cfg`; return the number of rows changed per table."""
    out: dict[str, int] = {}
    out["dim_form"] = _sync(
        conn,
        dim_form,
        ["form_code"],
        (
            {"form_code": f.code, "title": f.title, "unit_kind": f.unit_kind, "by_region": f.by_region}
            for f in cfg.forms
        ),
    )
    forms = _keys(conn, dim_form, "form_code", "form_key")
    out["dim_indicator"] = _sync(
        conn,
        dim_indicator,
        ["form_key", "row_no"],
        (
            {
                "form_key": forms[i.form_code],
                "row_no": i.row_no,
                "category": i.category,
                "indicator": i.indicator,
                "measure_unit": i.measure_unit,
                "kind": i.kind,
                "parent_row_no": i.parent,
                "at_most_row_no": i.at_most,
                "weight_row_no": i.weight_row,
                "concept": i.concept,
            }
            for i in cfg.indicators
        ),
    )
    declared = {u.code for u in cfg.units}
    known = _keys(conn, dim_unit, "unit_code", "unit_key")
    out["dim_unit"] = _sync(
        conn,
        dim_unit,
        ["unit_code"],
        (
            {
                "unit_code": u.code,
                "unit_name": u.name,
                "official_name": u.official_name,
                "unit_kind": u.kind,
                "form_key": forms[u.form_code],
                "region": u.region,
                "email": u.email,
                "sort_order": u.sort_order,
                "is_active": True,
            }
            for u in cfg.units
        ),
    )
    retired = [code for code in known if code not in declared]
    if retired:
        out["dim_unit"] += conn.execute(
            update(dim_unit)
            .where(dim_unit.c.unit_code.in_(retired), dim_unit.c.is_active.is_(True))
            .values(is_active=False)
        ).rowcount
    units = _keys(conn, dim_unit, "unit_code", "unit_key")
    aliases = {}
    for u in cfg.units:
        for text in (u.code, u.name, u.official_name, *u.aliases):
            aliases[normalize_text(text)] = {
                "alias_key": normalize_text(text),
                "alias": text,
                "unit_key": units[u.code],
            }
    out["dim_unit_alias"] = _sync(conn, dim_unit_alias, ["alias_key"], aliases.values())
    stale = set(_keys(conn, dim_unit_alias, "alias_key", "unit_key")) - set(aliases)
    if stale:
        conn.execute(dim_unit_alias.delete().where(dim_unit_alias.c.alias_key.in_(stale)))
        out["dim_unit_alias"] += len(stale)
    regions = [{"region": cfg.total_column, "is_total": True, "province": None, "sort_order": 0}] + [
        {"region": r.name, "is_total": False, "province": r.province, "sort_order": n}
        for n, r in enumerate(cfg.report_regions, start=1)
    ]
    out["dim_region"] = _sync(conn, dim_region, ["region"], regions)
    out["dim_district"] = _sync(
        conn,
        dim_district,
        ["district"],
        (
            {"district": u.name, "short_name": u.short_name, "unit_code": u.code, "sort_order": n}
            for n, u in enumerate(cfg.districts, start=1)
        ),
    )
    out["dim_origin"] = _sync(
        conn,
        dim_origin,
        ["province", "city", "county"],
        (
            {
                "province": c.province,
                "city": c.city,
                "county": c.county,
                "is_paired": True,
                "is_central_western": c.province in cfg.central_western_provinces,
                "report_region": cfg.province_region(c.province),
            }
            for c in cfg.paired_counties
        ),
    )
    out["dim_month"] = ensure_months(conn, cfg, months)
    return out


def ensure_months(conn: Connection, cfg: Config, months: Iterable[str]) -> int:
    """Add the months (and every month since the first reporting month) that dim_month lacks, and on PostgreSQL
    their partitions of the person table."""
    wanted = sorted(set(months))
    if not wanted:
        return 0
    span = month_range(min(cfg.calendar.first_month, wanted[0]), wanted[-1])
    ensure_person_partitions(conn, [m.key for m in span])  # PostgreSQL: each month's people go to their partition
    return _sync(
        conn,
        dim_month,
        ["month_key"],
        (
            {
                "month_key": m.key,
                "month": m,
                "year": m.year,
                "month_of_year": m.mon,
                "quarter": (m.mon - 1) // 3 + 1,
                "deadline": cfg.deadline(m),
            }
            for m in span
        ),
    )
