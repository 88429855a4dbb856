"""District lists: a killed write leaves only a private temp that the next write sweeps; an unchanged month is not
rewritten, a changed one is."""

from __future__ import annotations

import datetime as dt
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from core.crashpoint import PAUSE_ENV, PAUSED
from fupin.demo.labor import generate_labor, write_csv
from tasks.intake.archive import sha256_of
from tasks.labor.lists import MANIFEST, write_district_lists
from tasks.labor.load import FileFacts, load_labor
from tasks.labor.read import read_labor
from tasks.labor.validate import validate_labor

ROOT = Path(__file__).resolve().parents[3]
CHILD = (
    "import sys; from pathlib import Path; from config import load_config; from warehouse.engine import make_engine;"
    " from tasks.labor.lists import write_district_lists;"
    " write_district_lists(make_engine(sys.argv[1]), load_config(), sys.argv[2], Path(sys.argv[3]))"
)


def _load(engine, cfg, path: Path, month: str, seed: int) -> None:
    write_csv(generate_labor(cfg, {u.name: 3 for u in cfg.districts}, {}, seed=seed), path)
    check = validate_labor(read_labor(path, cfg), cfg)
    facts = FileFacts(sha256_of(path.read_bytes()), path.name, "archive/x", dt.datetime.now(dt.UTC), month)
    load_labor(engine, cfg, facts, check, b"k" * 32)


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}


def test_a_kill_mid_write_leaves_a_private_temp_that_the_next_write_sweeps(sqlite_engine, cfg, tmp_path) -> None:
    _load(sqlite_engine, cfg, tmp_path / "07.csv", "2020-07", seed=1)
    out = tmp_path / "lists"
    env = {**os.environ, PAUSE_ENV: "lists"}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(sqlite_engine.url), "2020-07", str(out)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (line := proc.stderr.readline()).startswith(f"{PAUSED} lists"):
        assert line or proc.poll() is None, "the write ended before its pause point"
        assert time.monotonic() < deadline
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    left = [p for p in out.iterdir() if p.name.startswith(".tmp-")]
    assert len(left) == 1 and left[0].stat().st_size > 0, "the kill came with the temp file written, not renamed"
    assert stat.S_IMODE(left[0].stat().st_mode) == 0o600, "a temp file holding names is owner-only"
    assert f"-{proc.pid}-" in left[0].name, "the temp name carries the writer's pid, so it can be swept once dead"

    lists = write_district_lists(sqlite_engine, cfg, "2020-07", out)
    assert lists.written and not [p for p in out.iterdir() if p.name.startswith(".tmp-")]
    assert {stat.S_IMODE(p.stat().st_mode) for p in [*lists.paths, out / MANIFEST]} == {0o600}


def test_unchanged_lists_are_not_rewritten_and_a_new_submission_rewrites_them(sqlite_engine, cfg, tmp_path) -> None:
    _load(sqlite_engine, cfg, tmp_path / "07.csv", "2020-07", seed=1)
    out = tmp_path / "lists"
    assert write_district_lists(sqlite_engine, cfg, "2020-07", out).written
    before = _snapshot(out)
    again = write_district_lists(sqlite_engine, cfg, "2020-07", out)
    assert not again.written and _snapshot(out) == before

    again.paths[0].write_bytes(b"tampered")  # a damaged list is not "up to date"
    assert write_district_lists(sqlite_engine, cfg, "2020-07", out).written
    assert again.paths[0].read_bytes()[:2] == b"PK"
    settled = _snapshot(out)
    _load(sqlite_engine, cfg, tmp_path / "06.csv", "2020-06", seed=2)  # last month's people feed the 稳岗 sheet
    assert write_district_lists(sqlite_engine, cfg, "2020-07", out).written
    assert _snapshot(out) != settled
