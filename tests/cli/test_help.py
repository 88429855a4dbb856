"""Every `fupin` command explains itself, and usage errors exit 2 with a one-line message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command

from fupin.cli import app

COMMANDS = sorted(get_command(app).commands)


def _fupin(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fupin.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False
    )


def test_the_app_has_its_commands() -> None:
    assert {"init", "templates"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    run = _fupin(command, "--help")
    assert run.returncode == 0, run.stderr
    assert "Usage" in run.stdout and len(run.stdout.splitlines()) > 3


def test_bad_month_is_a_usage_error(fupin_home: Path) -> None:
    run = _fupin("templates", "--month", "2020-13")
    assert run.returncode == 2
    assert "2020-13" in run.stderr and "Traceback" not in run.stderr


def test_templates_command_writes_every_unit(fupin_home: Path, cfg) -> None:
    run = _fupin("templates", "--month", "2020-09", "--out", str(fupin_home / "t"))
    assert run.returncode == 0, run.stderr
    assert len(list((fupin_home / "t").glob("*.xlsx"))) == len(cfg.units)
