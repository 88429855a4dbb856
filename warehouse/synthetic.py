"""Deterministic synthetic months loaded straight into the fact tables, for the analyst tests and the benchmark."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypedDict

from sqlalchemy import Connection, Engine, func, select, text

from config import Config, Unit
from core.clock import office_time
from core.month import Month, month_key
from warehouse.bulk import bulk_insert
from warehouse.retention import rebuild_retention
from warehouse.schema import (
    dim_district,
    dim_form,
    dim_indicator,
    dim_origin,
    dim_region,
    dim_unit,
    fct_indicator_value,
    fct_labor_employment,
    fct_submission,
    restricted_labor_person,
)
from warehouse.seed import ensure_months
from warehouse.versions import in_received_order


def ytd_value(cfg: Config, unit: Unit, row_no: int, region_no: int, month: str, version: int) -> float:
    """The year-to-date figure a unit reports: a varying increment each month; a restatement adds to it."""
    form = cfg.form(unit.form_code)
    ind = form.row(row_no)
    if region_no == 0 and form.by_region and ind.kind != "rate":  # the total is the sum of the regions
        return round(sum(ytd_value(cfg, unit, row_no, n, month, version) for n in range(1, len(cfg.columns(form)))), 4)
    base = (unit.sort_order * 31 + row_no * 7 + region_no * 3) % 17 + 1
    if ind.kind == "rate":
        return float(min(100, base * 5 + version))
    ytd = sum(base + (unit.sort_order * 5 + row_no + region_no + j * 3) % 7 for j in range(1, Month(month).mon + 1))
    ytd += (version - 1) * base
    return round(ytd / 100, 4) if ind.kind == "money" else float(ytd)


def synthetic_cells(cfg: Config, unit: Unit, month: str, version: int) -> dict[tuple[int, str], float | None]:
    """Every (row_no, column) figure of one report version, from ytd_value."""
    form = cfg.form(unit.form_code)
    return {
        (ind.row_no, column): ytd_value(cfg, unit, ind.row_no, n, month, version)
        for ind in form.rows
        for n, column in enumerate(cfg.columns(form))
    }


Cells = Callable[[Config, Unit, str, int], dict[tuple[int, str], "float | None"]]


@dataclass(frozen=True)
class Plan:
    """What to generate: which months, who is late, restates or is missing, the figures and how many laborers."""

    months: tuple[str, ...]
    late_every: int = 5  # every n-th unit (by sort order) sends version 1 after the deadline
    restate_every: int = 7  # every n-th unit sends a corrected version 2 each month
    missing_every: int = 11  # every n-th unit does not report in the last month
    reject_every: int = 13  # every n-th unit first sends a file that is rejected
    laborers: int = 0  # people in the labor pool (each month a deterministic part of them is employed)
    cells: Cells = synthetic_cells  # the figures of one report version: synthetic, or the shared demo values


def _sha(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def _received(cfg: Config, month: str, day_after_deadline: int) -> dt.datetime:
    day = cfg.deadline(month) + dt.timedelta(days=day_after_deadline)
    return office_time(day, 10, cfg.calendar.timezone)


class _Keys(TypedDict):
    """The warehouse's surrogate keys by natural key, and the district and origin keys in their order."""

    unit: dict[str, int]
    form: dict[str, int]
    indicator: dict[tuple[str, int], int]
    region: dict[str, int]
    district: list[int]
    origin: list[int]


def _keys(conn: Connection) -> _Keys:
    return {
        "unit": dict(conn.execute(select(dim_unit.c.unit_code, dim_unit.c.unit_key)).all()),
        "form": dict(conn.execute(select(dim_form.c.form_code, dim_form.c.form_key)).all()),
        "indicator": {
            (f, r): k
            for f, r, k in conn.execute(
                select(dim_form.c.form_code, dim_indicator.c.row_no, dim_indicator.c.indicator_key).join(
                    dim_form, dim_form.c.form_key == dim_indicator.c.form_key
                )
            ).all()
        },
        "region": dict(conn.execute(select(dim_region.c.region, dim_region.c.region_key)).all()),
        "district": [
            k for (k,) in conn.execute(select(dim_district.c.district_key).order_by(dim_district.c.sort_order))
        ],
        "origin": [k for (k,) in conn.execute(select(dim_origin.c.origin_key).order_by(dim_origin.c.origin_key))],
    }


SUBMISSION_COLUMNS = (
    "submission_id",
    "kind",
    "sha256",
    "original_name",
    "archive_path",
    "received_at",
    "unit_key",
    "form_key",
    "month_key",
    "status",
    "version",
    "is_current",
    "is_late",
    "n_errors",
    "n_warnings",
    "n_rows",
)


def _report_rows(
    cfg: Config, plan: Plan, units: Iterable[Unit], keys: _Keys, next_id: int
) -> tuple[list[tuple], list[tuple], int]:
    subs: list[tuple] = []
    facts: list[tuple] = []
    for month in plan.months:
        last = month == plan.months[-1]
        for unit in units:
            n = unit.sort_order
            if last and plan.missing_every and n % plan.missing_every == 0:
                continue
            form = cfg.form(unit.form_code)
            base = (keys["unit"][unit.code], keys["form"][form.code], month_key(month))
            if plan.reject_every and n % plan.reject_every == 0:
                subs.append(
                    (
                        next_id,
                        "report",
                        _sha(unit.code, month, "bad"),
                        f"{unit.name}_{month}_错.xlsx",
                        "archive/x",
                        _received(cfg, month, -4),
                        *base,
                        "rejected",
                        None,
                        False,
                        False,
                        2,
                        0,
                        0,
                    )
                )
                next_id += 1
            restated = bool(plan.restate_every) and n % plan.restate_every == 0
            late = bool(plan.late_every) and n % plan.late_every == 0
            arrivals = [_received(cfg, month, 2 if late else -5), *([_received(cfg, month, 8)] if restated else [])]
            for received, numbered in zip(arrivals, in_received_order(arrivals), strict=True):
                version = numbered.number
                subs.append(
                    (
                        next_id,
                        "report",
                        _sha(unit.code, month, version),
                        f"{unit.name}_{month}_v{version}.xlsx",
                        "archive/x",
                        received,
                        *base,
                        "accepted",
                        version,
                        numbered.is_current,
                        cfg.is_late(month, received),
                        0,
                        0,
                        len(form.rows),
                    )
                )
                for (row_no, column), value in plan.cells(cfg, unit, month, version).items():
                    facts.append(
                        (
                            next_id,
                            keys["indicator"][(form.code, row_no)],
                            keys["region"][column],
                            base[0],
                            base[2],
                            value,
                        )
                    )
                next_id += 1
    return subs, facts, next_id


def _labor_rows(
    cfg: Config, plan: Plan, keys: _Keys, next_id: int
) -> tuple[list[tuple], list[tuple], list[tuple], int]:
    subs: list[tuple] = []
    people: list[tuple] = []
    cells: dict[tuple[int, int, int, int], int] = {}
    hr = keys["unit"].get(cfg.labor.sender_unit)
    districts, origins = keys["district"], keys["origin"]
    person_keys = [bytes.fromhex(_sha("p", person)) for person in range(plan.laborers)]
    for m_no, month in enumerate(plan.months):
        sid = next_id
        next_id += 1
        received = _received(cfg, month, -6)
        (numbered,) = in_received_order([received])
        subs.append(
            (
                sid,
                "labor",
                _sha("labor", month),
                f"建档立卡劳动力_{month}.xlsx",
                "archive/x",
                received,
                hr,
                None,
                month_key(month),
                "accepted",
                numbered.number,
                numbered.is_current,
                False,
                0,
                0,
                0,
            )
        )
        for person in range(plan.laborers):
            if (person * 7 + m_no) % 10 == 0:  # about a tenth of the pool is out of work in any month
                continue
            district = districts[(person + m_no // 6) % len(districts)]  # a few move district every half year
            origin = origins[person % len(origins)]
            insured = (person + m_no) % 23 != 0
            people.append(
                (
                    sid,
                    district,
                    person_keys[person],
                    month_key(month),
                    origin,
                    insured,
                    f"劳动者{person}",  # the table's order
                    f"000000********{person % 10000:04d}",
                    "",
                    "在保" if insured else "停保",
                    person + 2,
                )
            )
            if insured:
                cells[(sid, origin, district, month_key(month))] = (
                    cells.get((sid, origin, district, month_key(month)), 0) + 1
                )
    employment = [(*k, v) for k, v in cells.items()]
    return subs, people, employment, next_id


def load_synthetic(engine: Engine, cfg: Config, plan: Plan) -> dict[str, int]:
    """Add the plan's months to an initialised warehouse in one transaction; returns rows inserted per table."""
    with engine.begin() as conn:
        ensure_months(conn, cfg, plan.months)
        keys = _keys(conn)
        next_id = (conn.execute(select(func.max(fct_submission.c.submission_id))).scalar() or 0) + 1
        subs, facts, next_id = _report_rows(cfg, plan, cfg.units, keys, next_id)
        lsubs, people, employment, next_id = _labor_rows(cfg, plan, keys, next_id) if plan.laborers else ([], [], [], 0)
        bulk_insert(conn, fct_submission, subs + lsubs, SUBMISSION_COLUMNS)
        bulk_insert(
            conn,
            fct_indicator_value,
            facts,
            ("submission_id", "indicator_key", "region_key", "unit_key", "month_key", "value"),
        )
        bulk_insert(conn, restricted_labor_person, people, list(restricted_labor_person.c.keys()))
        bulk_insert(
            conn,
            fct_labor_employment,
            employment,
            ("submission_id", "origin_key", "district_key", "month_key", "persons"),
        )
        rebuild_retention(conn, [month_key(m) for m in plan.months] if plan.laborers else [])
        if conn.dialect.name == "postgresql":  # the ids were given, so a later load's ids follow on from them
            conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('fct_submission', 'submission_id'), max(submission_id)) "
                    "FROM fct_submission"
                )
            )
    return {
        "fct_submission": len(subs) + len(lsubs),
        "fct_indicator_value": len(facts),
        "restricted_labor_person": len(people),
        "fct_labor_employment": len(employment),
    }
