"""`fupin grant-analyst`, `fupin export` and `fupin docs`, run as the real command on real databases."""

from __future__ import annotations

import csv
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from config import Config
from tasks.analyst.docs import render_warehouse_doc
from warehouse.access import analyst_views, restricted_views
from warehouse.engine import make_engine
from warehouse.init import init_warehouse
from warehouse.schema import metadata
from warehouse.synthetic import Plan, load_synthetic
from warehouse.views import all_views

PLAN = Plan(months=("2020-08", "2020-09"), laborers=100)


def fupin(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fupin.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


def loaded(url: str, cfg: Config) -> None:
    engine = make_engine(url)
    init_warehouse(engine, cfg, months=["2020-12"])
    load_synthetic(engine, cfg, PLAN)
    engine.dispose()


@pytest.fixture
def role(pg_url: str, monkeypatch: pytest.MonkeyPatch, fupin_home: Path) -> Iterator[str]:
    name = f"analyst_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", pg_url)
    yield name
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": name}).first():
            conn.execute(text(f'DROP OWNED BY "{name}"'))
            conn.execute(text(f'DROP ROLE "{name}"'))
    admin.dispose()


def test_analyst_role_reads_views_and_nothing_else(role: str, pg_url: str, cfg: Config) -> None:
    loaded(pg_url, cfg)
    run = fupin("grant-analyst", role, "--login")
    assert run.returncode == 0, run.stderr
    as_role = create_engine(make_url(pg_url).set(username=role, password=None))
    try:
        with as_role.connect() as conn:
            for view in analyst_views(cfg, all_views()):
                conn.execute(text(f"SELECT * FROM {view.name} LIMIT 1")).all()
            assert conn.execute(text("SELECT count(*) FROM v_submission")).scalar_one() > 0
        for table in ("restricted_labor_person", "fct_indicator_value", "fct_labor_employment", "dim_unit"):
            assert table in metadata.tables
            with as_role.connect() as conn, pytest.raises(ProgrammingError, match="permission denied"):
                conn.execute(text(f"SELECT * FROM {table} LIMIT 1"))
    finally:
        as_role.dispose()
    again = fupin("grant-analyst", role)
    assert again.returncode == 0, "granting twice is harmless"
    eng = make_engine(pg_url)
    init_warehouse(eng, cfg, months=["2020-12"])
    eng.dispose()
    as_role = create_engine(make_url(pg_url).set(username=role, password=None))
    try:
        with as_role.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM v_submission")).scalar_one() > 0, "init kept the grant"
            with pytest.raises(ProgrammingError, match="permission denied"):
                conn.execute(text("SELECT * FROM restricted_labor_person LIMIT 1"))
    finally:
        as_role.dispose()


def test_grant_analyst_refuses_sqlite_in_one_line(fupin_home: Path) -> None:
    run = fupin("grant-analyst", "analyst")
    assert run.returncode == 2
    assert "PostgreSQL" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_writes_the_month_of_every_view(fmt: str, fupin_home: Path, cfg: Config) -> None:
    loaded(f"sqlite:///{fupin_home / 'warehouse.db'}", cfg)
    run = fupin("export", "--month", "2020-09", "--format", fmt)
    assert run.returncode == 0, run.stderr
    out = fupin_home / "exports" / "2020-09"
    views = [v for v in analyst_views(cfg, all_views()) if "month" in v.columns]
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{v.name}.{fmt}" for v in views)
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    submissions = read(out / f"v_submission.{fmt}")
    assert set(submissions["month"]) == {"2020-09"} and list(submissions.columns) == list(
        next(v for v in views if v.name == "v_submission").columns
    )
    history = read(out / f"v_indicator_history.{fmt}")
    assert len(history) > 1000 and set(history["month"]) == {"2020-09"}


FORMULA_REMARKS = (
    '=HYPERLINK("http://evil.example","x")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
)


def plant_formula_text(url: str) -> None:
    """Remarks, a file name and a message that a spreadsheet would run, and one negative figure."""
    eng = make_engine(url)
    with eng.begin() as conn:
        rows = conn.execute(
            text(
                "SELECT submission_id, indicator_key, region_key FROM fct_indicator_value "
                "WHERE month_key = 202009 ORDER BY submission_id, indicator_key, region_key "
                f"LIMIT {len(FORMULA_REMARKS) + 1}"
            )
        ).all()
        for (sid, ind, reg), remark in zip(rows, FORMULA_REMARKS, strict=False):
            conn.execute(
                text(
                    "UPDATE fct_indicator_value SET remark = :r WHERE submission_id = :s "
                    "AND indicator_key = :i AND region_key = :g"
                ),
                {"r": remark, "s": sid, "i": ind, "g": reg},
            )
        sid, ind, reg = rows[-1]
        conn.execute(
            text(
                "UPDATE fct_indicator_value SET value = -5 WHERE submission_id = :s "
                "AND indicator_key = :i AND region_key = :g"
            ),
            {"s": sid, "i": ind, "g": reg},
        )
        conn.execute(
            text("UPDATE fct_submission SET original_name = '=1+2.xlsx', message = '@evil' WHERE submission_id = :s"),
            {"s": sid},
        )
    eng.dispose()


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_csv_export_escapes_text_a_spreadsheet_would_run_and_keeps_numbers(
    warehouse_url: str, fupin_home: Path, cfg: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", warehouse_url)
    loaded(warehouse_url, cfg)
    plant_formula_text(warehouse_url)
    run = fupin("export", "--month", "2020-09", "--format", "csv")
    assert run.returncode == 0, run.stderr
    out = fupin_home / "exports" / "2020-09"
    for path in out.glob("*.csv"):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                live = [c for c in row if c.startswith(("=", "+", "-", "@", "\t", "\r")) and not _is_number(c)]
                assert not live, f"{path.name}: {live}"
    history = pd.read_csv(out / "v_indicator_history.csv", encoding="utf-8-sig")
    assert set(FORMULA_REMARKS) <= {r[1:] for r in history["remark"].dropna() if r.startswith("'")}
    assert history["value"].dtype == "float64" and (history["value"] == -5).sum() == 1, "a negative stays a number"
    assert {"'=1+2.xlsx"} <= set(history["original_name"])
    parquet = fupin("export", "--month", "2020-09", "--format", "parquet")
    assert parquet.returncode == 0, parquet.stderr
    exact = pd.read_parquet(out / "v_indicator_history.parquet")
    assert set(FORMULA_REMARKS) <= set(exact["remark"].dropna()), "Parquet keeps the text exactly"


def test_export_rejects_a_bad_format_with_usage_exit(fupin_home: Path) -> None:
    run = fupin("export", "--month", "2020-09", "--format", "xls")
    assert run.returncode == 2 and "csv" in run.stderr


def test_docs_check_fails_on_a_stale_file_and_docs_fixes_it(tmp_path: Path, fupin_home: Path, cfg: Config) -> None:
    stale = tmp_path / "warehouse.md"
    stale.write_text("# old\n", encoding="utf-8")
    check = fupin("docs", "--check", "--out", str(stale))
    assert check.returncode == 1 and "out of date" in check.stderr
    assert fupin("docs", "--out", str(stale)).returncode == 0
    views = all_views()
    assert stale.read_text(encoding="utf-8") == render_warehouse_doc(cfg, metadata, views, restricted_views(cfg, views))


def test_export_before_init_says_so_in_one_line(fupin_home: Path) -> None:
    run = fupin("export", "--month", "2020-09")
    assert run.returncode == 3
    assert "fupin init" in run.stderr and "Traceback" not in run.stderr
