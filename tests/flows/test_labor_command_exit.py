"""`fupin labor` as a user runs it, a fresh process without a Prefect server: its SQLite connection is closed before
the process freezes its collector at exit, so the WAL is checkpointed and removed, not left to the next command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from config import Config
from fupin.demo.labor import generate_labor, write_csv, write_xlsx

ROOT = Path(__file__).resolve().parents[2]


def _fupin(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_SERVER_EPHEMERAL_ENABLED"] = "false"
    return subprocess.run(
        [sys.executable, "-m", "fupin.cli", *args], capture_output=True, text=True, cwd=ROOT, env=env, check=False
    )


def test_the_command_leaves_the_sqlite_warehouse_closed(fupin_home: Path, cfg: Config) -> None:
    assert _fupin("init").returncode == 0
    people = generate_labor(cfg, {"延庆区": 5, "朝阳区": 4}, {}, seed=3)
    for path in (write_xlsx(people, fupin_home / "l.xlsx"), write_csv(people, fupin_home / "l.csv")):
        done = _fupin("labor", str(path), "--month", "2020-07")
        assert done.returncode == 0, done.stderr[-2000:]
        databases = sorted(p.name for p in fupin_home.rglob("*.db*"))
        assert databases and not [n for n in databases if n.endswith(("-wal", "-shm"))], databases
