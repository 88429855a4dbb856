"""Loading labor files on SQLite and PostgreSQL: Attachment 1 back from the views, versions, identity protection."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, text

from config import Config
from fupin.demo.labor import Noise, attachment1_counts, generate_labor, small_counts, write_csv
from tasks.intake.archive import sha256_of
from tasks.labor.batches import employment_counts
from tasks.labor.load import FileFacts, load_labor
from tasks.labor.read import read_labor
from tasks.labor.totals import attachment1_by_district, attachment1_by_origin
from tasks.labor.validate import validate_labor

KEY = b"test-key"
RECEIVED = dt.datetime(2020, 8, 3, 9, 0, tzinfo=dt.UTC)


def ingest(engine: Engine, cfg: Config, path: Path, month: str, received: dt.datetime = RECEIVED):
    check = validate_labor(read_labor(path, cfg), cfg)
    facts = FileFacts(sha256_of(path.read_bytes()), path.name, "archive/x", received, month)
    return check, load_labor(engine, cfg, facts, check, KEY)


def rows(engine: Engine, sql: str, **params) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params).all()]


def test_scaled_attachment1_with_noise_comes_back_exactly_on_both_databases(engine, cfg, tmp_path) -> None:
    by_district, by_county = small_counts(cfg, 500)
    people = generate_labor(cfg, by_district, by_county, Noise(lapsed=40, duplicates=15, invalid_ids=0), seed=3)
    check, result = ingest(engine, cfg, write_csv(people, tmp_path / "m07.csv", encoding="gb18030"), "2020-07")
    assert result.version == 1 and len(check.duplicates) == 15
    got = attachment1_by_district(engine, "2020-07")
    assert dict(zip(got["district"], got["persons"], strict=False)) == by_district
    hebei = attachment1_by_origin(engine, "2020-07", ["河北省"])
    assert {(r.city, r.county): r.persons for r in hebei.itertuples()} == {
        (c, k): n for (p, c, k), n in by_county.items() if p == "河北省"
    }
    insured = rows(engine, "SELECT count(*) FROM restricted_labor_person WHERE is_insured = :t", t=True)[0][0]
    assert insured == sum(by_district.values()) + sum(n for (p, _, _), n in by_county.items() if p == "河北省")
    new_origins = rows(engine, "SELECT count(*) FROM dim_origin WHERE is_paired = :f", f=False)[0][0]
    assert new_origins >= 10  # counties outside the paired list were added in the same transaction


def test_same_bytes_twice_is_one_submission_and_a_new_file_is_version_2(engine, cfg, tmp_path) -> None:
    by_district, by_county = small_counts(cfg, 2000)
    first = write_csv(generate_labor(cfg, by_district, by_county, seed=1), tmp_path / "a.csv")
    ingest(engine, cfg, first, "2020-07")
    _, again = ingest(engine, cfg, first, "2020-07")
    assert again.already_loaded
    second = dict(by_district, 朝阳区=by_district["朝阳区"] + 5)
    _, v2 = ingest(
        engine,
        cfg,
        write_csv(generate_labor(cfg, second, by_county, seed=2), tmp_path / "b.csv"),
        "2020-07",
        received=dt.datetime(2020, 8, 20, tzinfo=dt.UTC),
    )
    assert v2.version == 2
    subs = rows(engine, "SELECT version, is_current, is_late FROM fct_submission WHERE kind = 'labor' ORDER BY version")
    assert [(v, bool(c), bool(late)) for v, c, late in subs] == [(1, False, False), (2, True, True)]
    got = attachment1_by_district(engine, "2020-07")
    assert dict(zip(got["district"], got["persons"], strict=False))["朝阳区"] == by_district["朝阳区"] + 5


def test_no_raw_identity_number_or_name_outside_the_restricted_table(sqlite_engine, cfg, tmp_path) -> None:
    people = generate_labor(cfg, {"朝阳区": 5, "延庆区": 3}, {}, Noise(invalid_ids=2), seed=5)
    check, _ = ingest(sqlite_engine, cfg, write_csv(people, tmp_path / "p.csv"), "2020-07")
    assert check.n_invalid_rows == 2
    # record the excluded rows as an accepted re-run would
    numbers = set(people["公民身份号码"])
    secrets = numbers | set(people["姓名"])
    with sqlite_engine.connect() as conn:
        for table in (
            "fct_labor_employment",
            "fct_validation_issue",
            "fct_submission",
            "fct_labor_invalid_row",
            "v_labor_by_district",
            "v_labor_by_origin",
            "v_labor_retention",
            "restricted_labor_person",
        ):
            dump = " ".join(str(v) for r in conn.execute(text(f"SELECT * FROM {table}")).all() for v in r)
            kept_out = numbers if table.startswith("restricted_") else secrets
            assert not [s for s in kept_out if s in dump], table
        masked = [r[0] for r in conn.execute(text("SELECT id_masked FROM restricted_labor_person")).all()]
    assert all(len(m) == 18 and m[6:14] == "********" for m in masked)
    assert rows(sqlite_engine, "SELECT count(*) FROM fct_labor_invalid_row")[0][0] == 2


def test_the_notice_attachment1_comes_back_exactly_from_326731_plus_17634_people(cfg) -> None:
    """Full size on the aggregation path (the views sum this grain; proven above on both databases)."""
    by_district, by_county = attachment1_counts(cfg)
    people = generate_labor(cfg, noise=Noise(lapsed=2000, duplicates=500, invalid_ids=300), seed=2020)
    frame = people.rename(columns={v[0]: k for k, v in cfg.labor.columns.items()})[list(cfg.labor.columns)]
    check = validate_labor(frame.assign(source_row=range(2, 2 + len(frame))), cfg)
    assert check.n_invalid_rows == 300 and len(check.duplicates) == 500
    grain = employment_counts(check.valid, ["origin_province", "origin_city", "origin_county", "work_district"])
    central_western = grain.loc[grain["origin_province"].isin(cfg.central_western_provinces)]
    assert central_western.groupby("work_district")["persons"].sum().to_dict() == by_district
    assert int(central_western["persons"].sum()) == 326_731
    hebei = grain.loc[grain["origin_province"] == "河北省"].groupby("origin_county")["persons"].sum()
    assert hebei.to_dict() == {k: n for (p, _, k), n in by_county.items() if p == "河北省"}
    assert int(hebei.sum()) == 17_634
