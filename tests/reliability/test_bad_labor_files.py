"""Broken HR exports (wrong encoding, a missing or repeated column, 5% invalid numbers, a decompression bomb) are
refused with a clear reason, kept in the archive, and load nothing; the good file then goes through."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from fupin.demo import bad_files, bad_files_parse
from tasks.intake.archive import sha256_of
from tests.reliability.conftest import count

pytestmark = pytest.mark.prefect
EXPECTED = {
    "labor_utf16.csv": "encoding",
    "labor_missing_column.csv": "公民身份号码",
    "labor_duplicate_header.csv": "姓名",
    "labor_invalid_ids_5pct.csv": "invalid",
    "labor_bomb.xlsx": "expands to",
    "labor_strings_bomb.xlsx": "inflates past its declared size",
    "labor_far_corners.xlsx": "from its first to its farthest cell",
}


def test_bad_labor_files_refused_kept_and_harmless(
    cfg, prefect_api, fupin_home: Path, home_engine: Engine, tmp_path: Path
) -> None:
    from flows.ingest_labor import ingest_labor

    files = {f.name for f in bad_files.labor_files(cfg, tmp_path)}
    bad_files.bomb(tmp_path / "labor_bomb.xlsx")
    bad_files_parse.strings_bomb(cfg, tmp_path / "labor_strings_bomb.xlsx")
    bad_files_parse.labor_far_corners(cfg, tmp_path / "labor_far_corners.xlsx")
    assert set(EXPECTED) == files | {"labor_bomb.xlsx", "labor_strings_bomb.xlsx", "labor_far_corners.xlsx"}
    for name, reason in EXPECTED.items():
        path = tmp_path / name
        state = ingest_labor(str(path), bad_files.MONTH, return_state=True)
        assert state.is_failed(), name
        assert reason in state.message and "Traceback" not in state.message, (name, state.message)
        assert name in state.message or reason == "invalid", "the error names the file as the operator sent it"
        sha = sha256_of(path.read_bytes())
        assert (fupin_home / "archive" / sha[:2] / f"{sha}{path.suffix}").read_bytes() == path.read_bytes()
        assert count(home_engine, "restricted_labor_person") == count(home_engine, "fct_labor_employment") == 0
        with home_engine.connect() as conn:
            status, message, n_errors = conn.execute(
                text("SELECT status, message, n_errors FROM fct_submission WHERE sha256 = :s"), {"s": sha}
            ).one()
            issues = conn.execute(
                text(
                    "SELECT count(*) FROM fct_validation_issue i JOIN fct_submission s "
                    "ON s.submission_id = i.submission_id WHERE s.sha256 = :s"
                ),
                {"s": sha},
            ).scalar()
        assert status == "rejected" and reason in message and n_errors >= 1 and issues >= 1, name
    good = bad_files.demo_labor.write_csv(
        bad_files.demo_labor.generate_labor(cfg, by_district={cfg.districts[0].name: 30}, by_paired_county={}),
        tmp_path / "good.csv",
    )
    assert ingest_labor(str(good), bad_files.MONTH)["persons"] == 30
