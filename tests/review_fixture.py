"""Helpers for the review tests: a warehouse shared by a module on each dialect, and loading real files the way the
ingest flow does (parse, contracts, warnings, load), without Prefect."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from config import Config, Form, Unit
from contracts.report import check_report
from core.clock import office_date
from fupin.demo.reports import REMARK, report_values, write_filled_report
from tasks.intake.archive import sha256_of
from tasks.report.load import LoadResult, Receipt, load_report
from tasks.report.parse import parse_report
from tasks.report.warnings import report_warnings
from tests.conftest import PG_ADMIN_URL
from warehouse.engine import make_engine
from warehouse.init import init_warehouse


def shared_engine(request: pytest.FixtureRequest, cfg: Config, folder: Path) -> Iterator[Engine]:
    """An initialised warehouse on request.param (sqlite or postgres), for a whole module."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{folder / 'warehouse.db'}")
        init_warehouse(eng, cfg, months=["2020-12"])
        yield eng
        eng.dispose()
        return
    admin = request.getfixturevalue("pg_admin")
    name = f"fupin_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng = make_engine(make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False))
    init_warehouse(eng, cfg, months=["2020-12"])
    yield eng
    eng.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def load_file(
    engine: Engine, cfg: Config, path: Path, received_at: dt.datetime, source: str = "cli:clerk"
) -> LoadResult:
    """What ingest-file does with a file, minus archive and quarantine: parse, check, warnings, load."""
    data = path.read_bytes()
    parsed = parse_report(data, path.name, cfg)
    errors = check_report(parsed, cfg, office_date(received_at, cfg.calendar.timezone))
    warnings = [] if errors else report_warnings(engine, parsed, cfg)
    receipt = Receipt(sha256_of(data), path.name, f"archive/{path.name}", received_at, None, source)
    return load_report(engine, parsed, cfg, receipt, errors, warnings)


def plain_row(form: Form) -> int:
    """A count row after the first that is nobody's part, whole, bound or weight: free to change alone."""
    linked = {r.parent for r in form.rows} | {r.at_most for r in form.rows} | {r.weight_row for r in form.rows}
    return next(
        r.row_no
        for r in form.rows
        if r.row_no > 1 and r.kind == "count" and r.parent is None and r.at_most is None and r.row_no not in linked
    )


def write_report(
    cfg: Config,
    unit: Unit,
    month: str,
    folder: Path,
    name: str,
    changes: dict[int, float] | None = None,
    remarks: dict[int, str] | None = None,
) -> Path:
    """The unit's demo report for `month` with row 合计 values replaced (a form without regions) and 备注 set."""
    values: pd.DataFrame = report_values(cfg, unit, month)
    for row_no, value in (changes or {}).items():
        values.loc[values["row_no"] == row_no, cfg.total_column] = value
    for row_no, remark in (remarks or {}).items():
        values.loc[values["row_no"] == row_no, REMARK] = remark
    return write_filled_report(cfg, unit, month, folder / name, values=values)


def total_of(cfg: Config, unit: Unit, month: str, row_no: int) -> float:
    values = report_values(cfg, unit, month)
    return float(values.loc[values["row_no"] == row_no, cfg.total_column].iloc[0])
