"""`scripts/scan_pii.py` end to end: a clean home passes; Prefect's database is read wherever its URL points."""

from __future__ import annotations

import base64
import json
import os
import pickle
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from config import Config
from fupin.demo import labor as demo_labor

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def person(cfg: Config) -> tuple[str, str]:
    frame = demo_labor.generate_labor(cfg, by_district={cfg.districts[1].name: 6}, by_paired_county={})
    name_col, id_col = cfg.labor.columns["name"][0], cfg.labor.columns["id_number"][0]
    row = frame[frame[name_col].str.len() == 3].iloc[0]
    return row[name_col], row[id_col]


@pytest.fixture
def home(tmp_path: Path, person: tuple[str, str]) -> Path:
    """A home whose warehouse knows the person, and whose Prefect storage holds a result without them."""
    home = tmp_path / "home"
    (home / "prefect" / "storage").mkdir(parents=True)
    conn = sqlite3.connect(home / "warehouse.db")
    conn.execute("create table restricted_labor_person (name text)")
    conn.execute("insert into restricted_labor_person values (?)", (person[0],))
    conn.commit()
    conn.close()
    clean = base64.encodebytes(pickle.dumps(ValueError("表1!E5 合计 must equal the sum of the regions")))
    (home / "prefect" / "storage" / "6f02f72b").write_bytes(clean)
    return home


def scan(home: Path, prefect_db: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FUPIN_", "PREFECT_"))}
    if prefect_db:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = prefect_db
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "scan_pii.py"), str(home)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _leaks(person: tuple[str, str]) -> tuple[str, str, bytes]:
    """A log line with a base64 copy, a JSON state with the name, a pickled blob with the number."""
    name, id_number = person
    return (
        f"payload {base64.b64encode(f'{name} {id_number}'.encode()).decode()}",
        json.dumps({"message": f"row 7: {name}"}),
        pickle.dumps({"id": id_number}),
    )


def test_a_clean_home_passes_and_a_prefect_sqlite_database_elsewhere_is_read(
    home: Path, person, tmp_path: Path
) -> None:
    clean = scan(home)
    assert clean.returncode == 0 and "0 finding(s)" in clean.stdout, clean.stdout + clean.stderr
    elsewhere = tmp_path / "prefect-elsewhere.db"
    conn = sqlite3.connect(elsewhere)
    conn.execute("create table log (message text)")
    conn.execute("create table flow_run_state (data json, result blob)")
    log, state, blob = _leaks(person)
    conn.execute("insert into log values (?)", (log,))
    conn.execute("insert into flow_run_state values (?, ?)", (state, blob))
    conn.commit()
    conn.close()
    run = scan(home, f"sqlite+aiosqlite:///{elsewhere}")
    assert run.returncode == 1, run.stdout + run.stderr
    for where in (
        "prefect-db:prefect-elsewhere.db:log.message!base64",
        "prefect-elsewhere.db:flow_run_state.data",
        "prefect-elsewhere.db:flow_run_state.result!pickle",
    ):
        assert where in run.stdout, run.stdout
    assert person[0] not in run.stdout and person[1] not in run.stdout, "the report never repeats the leak"


def test_a_prefect_database_on_postgresql_is_read(home: Path, person, pg_url: str) -> None:
    eng = create_engine(pg_url)
    log, state, blob = _leaks(person)
    with eng.begin() as conn:
        conn.execute(text("CREATE TABLE log (id int, message text)"))
        conn.execute(text("CREATE TABLE flow_run_state (id int, data jsonb, result bytea)"))
        conn.execute(text("INSERT INTO log VALUES (1, :m)"), {"m": log})
        conn.execute(text("INSERT INTO flow_run_state VALUES (1, CAST(:d AS jsonb), :b)"), {"d": state, "b": blob})
    eng.dispose()
    asyncpg = make_url(pg_url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    run = scan(home, asyncpg)
    assert run.returncode == 1, run.stdout + run.stderr
    kinds = {line.split()[0] for line in run.stdout.splitlines() if "prefect-db:" in line}
    wheres = {line.split()[-1].split("!")[0] for line in run.stdout.splitlines() if "prefect-db:" in line}
    database = make_url(pg_url).database
    assert kinds == {"name", "id_number"} and wheres == {
        f"prefect-db:{database}:log.message",
        f"prefect-db:{database}:flow_run_state.data",
        f"prefect-db:{database}:flow_run_state.result",
    }, run.stdout
