"""Everything under FUPIN_HOME is owner-only (folders 0700, files 0600, archive copies 0400) whatever the umask."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from config import Config
from fupin.demo import bad_files
from fupin.demo import labor as demo_labor
from tests.reliability.conftest import ROOT, api_url

pytestmark = pytest.mark.prefect


def readable_by_others(home: Path) -> list[str]:
    """Every folder not 0700 and every file not 0600/0400 under `home` (itself included), with its mode.

    The inbox's files are the senders' (here written by the test under umask 022): the inbox folder itself counts.
    """
    found = [] if stat.S_IMODE(home.stat().st_mode) == 0o700 else [f". {oct(stat.S_IMODE(home.stat().st_mode))}"]
    for root, dirs, files in os.walk(home):
        for name in dirs + files:
            path = Path(root) / name
            mode = stat.S_IMODE(path.lstat().st_mode)
            if Path(root) == home / "inbox" and name in files:
                continue
            if mode not in ((0o700,) if name in dirs else (0o600, 0o400)):
                found.append(f"{path.relative_to(home)} {oct(mode)}")
    return found


def _loose_umask() -> None:
    os.umask(0o022)


def fupin(*args: str, prefect: bool = True) -> subprocess.CompletedProcess:
    """The real CLI under umask 022; without `prefect`, with its own embedded Prefect home under FUPIN_HOME."""
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("PREFECT_HOME", None)
    env.pop("PREFECT_API_URL", None)
    if prefect:
        env["PREFECT_API_URL"] = api_url()
    return subprocess.run(
        [sys.executable, "-m", "fupin.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=900,
        check=False,
        preexec_fn=_loose_umask,
    )


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def _inbox(cfg: Config, home: Path) -> None:
    inbox = home / "inbox"
    inbox.mkdir(exist_ok=True)
    bad_files.good_report(cfg, inbox / "good.xlsx")
    bad_files.good_report(cfg, inbox / "unknown.xlsx", unit_text="火星区扶贫办", no_marker=True)


def test_cli_under_umask_022_leaves_nothing_for_other_users(cfg, fupin_home: Path, tmp_path: Path, umask_022) -> None:
    os.chmod(fupin_home, 0o755)  # as a default umask makes it (an earlier in-process run may have narrowed ours)
    assert fupin("init", prefect=False).returncode == 0
    _inbox(cfg, fupin_home)
    frame = demo_labor.generate_labor(cfg, by_district={d.name: 30 for d in cfg.districts[:2]}, by_paired_county={})
    labor = demo_labor.write_csv(frame, tmp_path / "labor.csv")
    ingest = fupin("ingest", prefect=False)
    assert ingest.returncode == 1 and "1 file(s) rejected" in ingest.stderr, ingest.stderr[-2000:]
    steps = [
        fupin("labor", str(labor), "--month", "2020-09", prefect=False),
        fupin("publish", "--month", "2020-09", "--send", prefect=False),
    ]
    assert [s.returncode for s in steps] == [0, 0], [s.stderr[-2000:] for s in steps]
    present = {p.name for p in fupin_home.iterdir()}
    assert {"warehouse.db", "archive", "quarantine", "outputs", "outbox", "prefect"} <= present
    assert list((fupin_home / "outputs").rglob("*.xlsx")) and list((fupin_home / "outbox").rglob("*.eml"))
    assert readable_by_others(fupin_home) == []


def test_flow_in_process_under_umask_022(cfg, prefect_api, fupin_home: Path, umask_022) -> None:
    from flows.ingest_inbox import ingest_inbox

    assert fupin("init").returncode == 0
    _inbox(cfg, fupin_home)
    os.umask(0o022)
    assert sorted(f["status"] for f in ingest_inbox()["files"]) == ["accepted", "rejected"]
    assert list((fupin_home / "quarantine").rglob("report.json"))
    assert readable_by_others(fupin_home) == []
