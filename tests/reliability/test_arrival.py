"""What arrives in the inbox: names in any bytes, symlinks, and one bad file among good ones never stop the others."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from config import Config
from fupin.demo import bad_files
from fupin.demo.bad_files_arrival import GBK_NAME, SPARSE_BYTES, UNDECODABLE_NAME, byte_named, sparse, symlink_to
from tests.reliability.conftest import ROOT, api_url, submissions
from warehouse.schema import fct_submission

pytestmark = pytest.mark.prefect

GBK_TEXT = GBK_NAME.decode("gbk")
UNDECODABLE_TEXT = UNDECODABLE_NAME.decode("utf-8", "backslashreplace")


def fupin(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PREFECT_API_URL": api_url(), "COLUMNS": "250"}
    return subprocess.run(
        [sys.executable, "-m", "fupin.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
        check=False,
    )


def _mixed_inbox(cfg: Config, inbox: Path) -> None:
    """A good report named in GBK bytes, a good one named in UTF-8, and half a file named in no encoding at all."""
    inbox.mkdir(parents=True, exist_ok=True)
    gbk = bad_files.good_report(cfg, inbox / "tmp.xlsx")
    byte_named(inbox, GBK_NAME, gbk.read_bytes())
    gbk.unlink()
    good = bad_files.good_report(cfg, inbox / "海淀区 9月.xlsx", form_code="表2")
    byte_named(inbox, UNDECODABLE_NAME, good.read_bytes()[:3000])


def _by_name(engine: Engine) -> dict[str, str]:
    return {r.original_name: r.status for r in submissions(engine)}


def _quarantined(home: Path) -> dict:
    [report] = list((home / "quarantine").glob("*/report.json"))
    return json.loads(report.read_text(encoding="utf-8"))


def test_cli_ingests_every_file_whatever_its_name(cfg, prefect_api, fupin_home: Path, home_engine: Engine) -> None:
    _mixed_inbox(cfg, fupin_home / "inbox")
    run = fupin("ingest")
    assert run.returncode == 1, run.stderr[-3000:]
    assert "error: 1 file(s) rejected" in run.stderr
    assert _by_name(home_engine) == {GBK_TEXT: "accepted", "海淀区 9月.xlsx": "accepted", UNDECODABLE_TEXT: "rejected"}
    assert GBK_TEXT in run.stdout and UNDECODABLE_TEXT in run.stdout
    report = _quarantined(fupin_home)
    assert report["file"] == UNDECODABLE_TEXT and bytes.fromhex(report["name_hex"]) == UNDECODABLE_NAME
    assert fupin("ingest").stdout.strip() == "nothing to ingest"


def test_sweep_runs_each_file_whatever_its_name(cfg, prefect_api, fupin_home: Path, home_engine: Engine) -> None:
    from flows.ingest_inbox import ingest_inbox

    _mixed_inbox(cfg, fupin_home / "inbox")
    assert sorted(f["status"] for f in ingest_inbox()["files"]) == ["accepted", "accepted", "rejected"]
    assert _by_name(home_engine) == {GBK_TEXT: "accepted", "海淀区 9月.xlsx": "accepted", UNDECODABLE_TEXT: "rejected"}
    assert ingest_inbox()["files"] == []


def test_flow_summary_keeps_the_name_bytes(cfg, prefect_api, fupin_home: Path, home_engine: Engine) -> None:
    from flows.ingest_file import ingest_file
    from tasks.intake.received import path_param

    (fupin_home / "inbox").mkdir()
    path = byte_named(fupin_home / "inbox", GBK_NAME, bad_files.good_report(cfg, fupin_home / "g.xlsx").read_bytes())
    summary = ingest_file(path_param(path))
    assert summary["status"] == "accepted" and summary["file"] == GBK_TEXT
    assert bytes.fromhex(summary["name_hex"]) == GBK_NAME
    with home_engine.connect() as conn:
        stored = conn.execute(select(fct_submission.c.original_name, fct_submission.c.original_name_hex)).one()
    assert stored.original_name == GBK_TEXT and bytes.fromhex(stored.original_name_hex) == GBK_NAME


def _nothing_read(home: Path, engine: Engine) -> None:
    assert submissions(engine) == []
    assert not [p for p in (home / "archive").rglob("*") if p.is_file()], "a refused file was archived"
    assert not [p for p in (home / "quarantine").rglob("*") if p.is_file()], "a refused file was quarantined"


def test_symlinks_are_refused_unread(cfg, prefect_api, fupin_home: Path, home_engine: Engine, tmp_path: Path) -> None:
    from flows.ingest_file import ingest_file
    from flows.ingest_inbox import ingest_inbox

    inbox = fupin_home / "inbox"
    inbox.mkdir(exist_ok=True)
    outside = bad_files.good_report(cfg, tmp_path / "elsewhere.xlsx")
    links = [symlink_to(inbox, "passwd.xlsx"), symlink_to(inbox, "report.xlsx", str(outside))]
    assert ingest_inbox()["counts"] == {"refused": 2}
    with pytest.raises(Exception, match="symbolic link"):
        ingest_file(str(links[0]))
    _nothing_read(fupin_home, home_engine)
    run = fupin("ingest")
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr[-3000:]
    rows = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in run.stdout.splitlines()
        if line.startswith("│")
    }
    assert rows == {"passwd.xlsx": "refused", "report.xlsx": "refused"} and "symbolic link" in run.stdout
    by_path = fupin("ingest", str(links[1]))
    assert by_path.returncode == 1 and "refused" in by_path.stdout and "symbolic link" in by_path.stdout
    _nothing_read(fupin_home, home_engine)


# VmHWM is this process's own peak: ru_maxrss would carry over the forking parent's (pytest's) size across exec.
_PROBE = """
import json, re, sys
from pathlib import Path
from flows.ingest_file import ingest_file
state = ingest_file(sys.argv[1], return_state=True)
peak_kb = int(re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text())[1])
print(json.dumps({"state": state.name, "peak_mb": peak_kb / 1024}))
"""


def test_a_gigabyte_is_refused_from_its_size_small_and_stored_once(
    cfg, prefect_api, fupin_home: Path, home_engine: Engine, tmp_path: Path
) -> None:
    big = sparse(tmp_path / "big.xlsx")
    env = {**os.environ, "PREFECT_API_URL": api_url()}
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, str(big)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
        check=True,
    )
    probe = json.loads(proc.stdout.strip().splitlines()[-1])
    assert probe["state"] == "Rejected" and probe["peak_mb"] < 400, probe
    [sub] = submissions(home_engine)
    assert sub.status == "rejected" and "file too large" in sub.message
    stored = {
        (p.stat().st_dev, p.stat().st_ino)
        for p in fupin_home.rglob("*")
        if p.is_file() and p.stat().st_size >= SPARSE_BYTES
    }
    assert len(stored) == 1, "one copy of the gigabyte on disk: the archive's (quarantine links to it)"
    assert _quarantined(fupin_home)["archive"] == sub.archive_path
