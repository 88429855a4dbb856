"""kill -9 an ingest during the archive step and during the load: no partial data, no duplicate, no lost file."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from core.crashpoint import PAUSE_ENV, PAUSED
from fupin.demo import bad_files
from tasks.intake.archive import sha256_of
from tests.reliability.conftest import count, drop, facts, ingest_process, submissions

pytestmark = pytest.mark.prefect


def _kill_when_paused(proc, point: str, timeout: float = 120.0) -> None:
    """Read the child's stderr until it reports the pause point, then SIGKILL it there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            pytest.fail(f"ingest ended (rc={proc.returncode}) before reaching {point}")
        if line.startswith(f"{PAUSED} {point}"):
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            assert proc.returncode == -signal.SIGKILL
            return
    proc.kill()
    pytest.fail(f"ingest never reached {point}")


@pytest.mark.parametrize("point", ["archive", "load"])
def test_kill_9_then_rerun_gives_one_clean_submission(
    point: str,
    cfg,
    prefect_api,
    fupin_home: Path,
    warehouse_url: str,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from flows.ingest_file import ingest_file

    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", warehouse_url)
    path = drop(bad_files.good_report(cfg, tmp_path / "v1.xlsx"), fupin_home / "inbox", "朝阳 9月.xlsx")
    data = path.read_bytes()
    proc = ingest_process(path, {PAUSE_ENV: point, "FUPIN_WAREHOUSE_URL": warehouse_url})
    _kill_when_paused(proc, point)

    sha = sha256_of(data)
    final = fupin_home / "archive" / sha[:2] / f"{sha}.xlsx"
    assert submissions(engine) == [] and facts(engine) == [], "a killed load left data behind"
    if point == "archive":
        assert not final.exists(), "the archive must never hold half a file under its final name"
        assert list(final.parents[1].glob(".tmp-*")), "the kill came after the temporary copy was written"
    assert path.read_bytes() == data, "the inbox file was lost or changed"

    result = ingest_file(str(path))
    assert result["status"] == "accepted" and result["version"] == 1
    assert final.read_bytes() == data and (final.stat().st_mode & 0o777) == 0o400
    assert not list(final.parents[1].rglob(".tmp-*")), "the killed run's temporary copy is swept on the re-run"
    rows = submissions(engine)
    assert len(rows) == 1 and rows[0].is_current and rows[0].version == 1
    n_facts = count(engine, "fct_indicator_value")
    assert n_facts == len(facts(engine)) > 0
    settled = fupin_home / "inbox" / "done" / path.name
    assert not path.exists() and settled.read_bytes() == data, "the accepted file left the inbox for inbox/done/"
    assert ingest_file(str(settled))["status"] == "duplicate"
    assert count(engine, "fct_indicator_value") == n_facts and len(submissions(engine)) == 1
