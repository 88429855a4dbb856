"""Two ingests at once: the same bytes make one submission; two versions land in received order, never mixed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from core.crashpoint import PAUSE_ENV, PAUSED
from fupin.demo import bad_files
from tasks.intake.archive import note_first_seen, sha256_of
from tests.reliability.conftest import drop, facts, ingest_process, submissions

pytestmark = pytest.mark.prefect


def _run_together(paths: list[Path], url: str, stagger: bool = False) -> list[tuple[int, str]]:
    """Each child holds its load transaction open for 3 s, so the loads surely overlap; `stagger` starts the
    second only once the first is inside its load, so the first one's load surely wins the race."""
    procs = []
    for p in paths:
        procs.append(ingest_process(p, {"FUPIN_WAREHOUSE_URL": url, PAUSE_ENV: "load:3"}))
        if stagger and len(procs) == 1:
            seen = ""
            while f"{PAUSED} load" not in seen and procs[0].poll() is None:
                seen = procs[0].stderr.readline()
    return [(p.wait(timeout=300), p.communicate()[1][-2000:]) for p in procs]


def test_same_file_twice_at_once_is_one_submission(
    cfg, prefect_api, fupin_home: Path, warehouse_url: str, engine: Engine, tmp_path: Path
) -> None:
    src = bad_files.good_report(cfg, tmp_path / "r.xlsx")
    a, b = drop(src, fupin_home / "inbox", "a.xlsx"), drop(src, fupin_home / "inbox", "b.xlsx")
    results = _run_together([a, b], warehouse_url)
    rows = submissions(engine)
    assert len(rows) == 1 and rows[0].status == "accepted" and rows[0].version == 1 and rows[0].is_current
    assert {r[0] for r in facts(engine)} == {rows[0].sha256}
    assert [rc for rc, _ in results] == [0, 0], [err for _, err in results]


def test_two_versions_at_once_get_versions_in_received_order(
    cfg, prefect_api, fupin_home: Path, warehouse_url: str, engine: Engine, tmp_path: Path
) -> None:
    unit = next(u for u in cfg.units if u.form_code == "表1")
    inbox = fupin_home / "inbox"
    first = drop(bad_files.write_filled_report(cfg, unit, bad_files.MONTH, tmp_path / "v1.xlsx", seed=1), inbox)
    second = drop(bad_files.write_filled_report(cfg, unit, bad_files.MONTH, tmp_path / "v2.xlsx", seed=2), inbox)
    for path in (first, second):  # the sweep's sightings, by the pipeline's clock: first, then second
        note_first_seen(fupin_home / "archive", sha256_of(path.read_bytes()))
    results = _run_together([second, first], warehouse_url, stagger=True)
    assert [rc for rc, _ in results] == [0, 0], [err for _, err in results]
    rows = sorted(submissions(engine), key=lambda r: r.received_at)
    assert [(r.original_name, r.version, r.is_current) for r in rows] == [("v1.xlsx", 1, False), ("v2.xlsx", 2, True)]
    current = {r for r in facts(engine) if r[2]}
    assert {r[0] for r in current} == {rows[1].sha256}, "the current figures must all come from one version"
