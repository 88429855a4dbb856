"""Retention counts are recomputed for a loaded month and the month after it, and match the people themselves."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, text

from config import Config
from fupin.demo.labor import Noise, generate_labor, small_counts, write_csv
from tasks.intake.archive import sha256_of
from tasks.labor.load import FileFacts, load_labor
from tasks.labor.read import read_labor
from tasks.labor.retention import refresh_retention
from tasks.labor.validate import validate_labor

KEY = b"test-key"


def load(engine: Engine, cfg: Config, people, path: Path, month: str, day: int) -> None:
    write_csv(people, path)
    facts = FileFacts(
        sha256_of(path.read_bytes()), path.name, "archive/x", dt.datetime(2020, 9, day, tzinfo=dt.UTC), month
    )
    load_labor(engine, cfg, facts, validate_labor(read_labor(path, cfg), cfg), KEY)


def stored(engine: Engine) -> dict[tuple[str, str], tuple]:
    with engine.connect() as conn:
        got = conn.execute(text("SELECT month, district, persons, kept, gone, new FROM v_labor_retention")).all()
    return {(r[0], r[1]): tuple(r[2:]) for r in got}


def expected(engine: Engine) -> dict[tuple[str, str], tuple]:
    """From the current files' insured people themselves, as sets."""
    with engine.connect() as conn:
        people = conn.execute(
            text(
                "SELECT m.month, d.district, p.person_key FROM restricted_labor_person p "
                "JOIN fct_submission s ON s.submission_id = p.submission_id AND s.is_current = TRUE "
                "JOIN dim_month m ON m.month_key = s.month_key JOIN dim_district d ON d.district_key = p.district_key "
                "WHERE p.is_insured = TRUE"
            )
        ).all()
        districts = conn.execute(text("SELECT district FROM dim_district")).scalars().all()
    sets: dict[tuple[str, str], set] = {}
    for month, district, key in people:
        sets.setdefault((month, district), set()).add(bytes(key))
    out = {}
    for month, before_month in (("2020-07", None), ("2020-08", "2020-07")):
        for d in districts:
            now = sets.get((month, d), set())
            if before_month is None:
                out[(month, d)] = (len(now), None, None, None)
            else:
                before = sets.get((before_month, d), set())
                out[(month, d)] = (len(now), len(now & before), len(before - now), len(now - before))
    return out


def test_a_load_recounts_its_month_and_the_next(engine: Engine, cfg: Config, tmp_path: Path) -> None:
    by_district, by_county = small_counts(cfg, 1000)
    people = generate_labor(cfg, by_district, by_county, Noise(lapsed=30, duplicates=0, invalid_ids=0), seed=7)
    load(engine, cfg, people, tmp_path / "jul.csv", "2020-07", 3)
    load(engine, cfg, people.iloc[25:], tmp_path / "aug.csv", "2020-08", 4)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM fct_labor_retention"))
        refresh_retention(conn, "2020-07")  # July's counts, and August's against July
    want = expected(engine)
    assert stored(engine) == want
    assert sum(want[k][2] for k in want if k[0] == "2020-08") > 0  # people did leave

    # July reloaded without its last 40 people: August's "new" now counts them, through July's refresh alone.
    load(engine, cfg, people.iloc[:-40], tmp_path / "jul_v2.csv", "2020-07", 20)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM fct_labor_retention WHERE month_key = 202008"))
        refresh_retention(conn, "2020-07")
    again = expected(engine)
    assert stored(engine) == again
    assert sum(again[k][3] for k in again if k[0] == "2020-08") > sum(want[k][3] for k in want if k[0] == "2020-08")


def test_the_counts_a_load_keeps_in_memory_are_the_stored_peoples(engine: Engine, cfg: Config, tmp_path: Path) -> None:
    by_district, by_county = small_counts(cfg, 1000)
    people = generate_labor(cfg, by_district, by_county, Noise(lapsed=30, duplicates=20, invalid_ids=5), seed=11)
    load(engine, cfg, people, tmp_path / "jul.csv", "2020-07", 3)
    assert stored(engine) == {k: v for k, v in expected(engine).items() if k[0] == "2020-07"}
    load(engine, cfg, people.iloc[25:], tmp_path / "aug.csv", "2020-08", 4)
    assert stored(engine) == expected(engine)
    load(engine, cfg, people.iloc[:-40], tmp_path / "jul_v2.csv", "2020-07", 20)  # August is recounted against it
    assert stored(engine) == expected(engine)
