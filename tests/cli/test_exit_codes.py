"""Exit codes that can be trusted, through the real entry point: 0 ok, 1 rejected, 2 usage, 3 could not do the work."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from config import Config
from fupin.demo.report_fixtures import catalogue, write_fixture
from warehouse.engine import make_engine
from warehouse.init import init_warehouse

UNREACHABLE_WAREHOUSE = "postgresql+psycopg://postgres@127.0.0.1:1/x"
UNREACHABLE_PREFECT = "http://127.0.0.1:9/api"


def _init(url: str, cfg: Config) -> None:
    engine = make_engine(url)
    init_warehouse(engine, cfg, months=["2020-12"])
    engine.dispose()


def _child(*args: str, **env: str) -> subprocess.CompletedProcess:
    """`fupin ARGS` in a fresh process (Prefect's settings are read once per process), with `env` added."""
    full = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"COLUMNS": "200"} | env
    return subprocess.run(
        [sys.executable, "-m", "fupin.cli", *args], capture_output=True, text=True, env=full, timeout=300, check=False
    )


def _one_line_error(err: str) -> bool:
    return "Traceback" not in err and 1 <= len(err.strip().splitlines()) <= 3


def _negative_report(cfg: Config, folder: Path) -> Path:
    return write_fixture(cfg, next(f for f in catalogue(cfg) if f.name == "negative"), folder)


def test_ok_is_0(cli: Callable[..., int], fupin_home: Path) -> None:
    assert cli("templates", "--month", "2020-09", "--unit", "chaoyang", "--out", str(fupin_home / "t")) == 0


@pytest.mark.prefect
def test_a_rejected_file_is_1_on_a_served_api(prefect_api, fupin_home: Path, cfg: Config) -> None:
    from prefect.settings import PREFECT_API_URL

    _init(f"sqlite:///{fupin_home / 'warehouse.db'}", cfg)
    done = _child("ingest", str(_negative_report(cfg, fupin_home)), PREFECT_API_URL=PREFECT_API_URL.value())
    assert done.returncode == 1, done.stderr[-2000:]
    assert "rejected" in done.stdout and "1 file(s) rejected" in done.stderr


def test_a_rejected_file_is_1_in_process(fupin_home: Path, cfg: Config) -> None:
    _init(f"sqlite:///{fupin_home / 'warehouse.db'}", cfg)
    done = _child("ingest", str(_negative_report(cfg, fupin_home)))
    assert done.returncode == 1, done.stderr[-2000:]
    assert "rejected" in done.stdout and "failed" not in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["templates", "--month", "2020-13"],  # a bad month
        ["labor", "no-such.csv", "--month", "2020-09"],  # a missing file
        ["templates", "--month", "2020-09", "--unit", "no-such-unit"],
        ["export", "--month", "2020-09", "--format", "xls"],
        ["templates"],  # Click: a missing option
        ["no-such-command"],
    ],
)
def test_a_usage_error_is_2(
    args: list[str], cli: Callable[..., int], fupin_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(*args) == 2
    assert _one_line_error(capsys.readouterr().err) or args[0] in ("templates", "no-such-command")


@pytest.mark.parametrize("args", [["init"], ["export", "--month", "2020-09"], ["ingest"]])
def test_an_unreachable_warehouse_is_3(
    args: list[str],
    cli: Callable[..., int],
    fupin_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", UNREACHABLE_WAREHOUSE)
    assert cli(*args) == 3
    err = capsys.readouterr().err
    assert "FUPIN_WAREHOUSE_URL" in err and _one_line_error(err)


@pytest.mark.parametrize("args", [["export", "--month", "2020-09"], ["ingest"]])
def test_an_uninitialised_warehouse_is_3(
    args: list[str],
    warehouse_url: str,
    cli: Callable[..., int],
    fupin_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FUPIN_WAREHOUSE_URL", warehouse_url)
    assert cli(*args) == 3
    err = capsys.readouterr().err
    assert "fupin init" in err and _one_line_error(err)


def test_an_unreachable_prefect_api_is_3(fupin_home: Path, cfg: Config) -> None:
    _init(f"sqlite:///{fupin_home / 'warehouse.db'}", cfg)
    done = _child("publish", "--month", "2020-09", PREFECT_API_URL=UNREACHABLE_PREFECT)
    assert done.returncode == 3, done.stderr[-2000:]
    assert "Prefect API" in done.stderr and UNREACHABLE_PREFECT in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_a_crash_is_3_with_its_traceback_kept_in_the_logs(
    cli: Callable[..., int],
    fupin_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "no-config").mkdir()
    monkeypatch.setenv("FUPIN_CONFIG_DIR", str(tmp_path / "no-config"))  # an office whose config/ is gone
    monkeypatch.delenv("FUPIN_DEBUG", raising=False)
    assert cli("templates", "--month", "2020-09") == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err and "FileNotFoundError" in err
    logs = list((fupin_home / "logs").glob("fupin-error-*.log"))
    assert len(logs) == 1 and str(logs[0]) in " ".join(err.split())
    assert "Traceback" in logs[0].read_text(encoding="utf-8")

    monkeypatch.setenv("FUPIN_DEBUG", "1")
    assert cli("templates", "--month", "2020-09") == 3
    assert "Traceback" in capsys.readouterr().err


def test_no_command_starts_a_temporary_prefect_server(fupin_home: Path) -> None:
    """A command that touches Prefect with no API chosen fails at once instead of starting a server."""
    probe = (
        "import sys\nfrom fupin.cli import app, main\n"
        "def touch() -> None:\n    from prefect import flow\n    flow(name='touch')(lambda: None)()\n"
        "app.command('touch-prefect')(touch)\nsys.argv = ['fupin', 'touch-prefect']\nmain()\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 3, done.stderr[-2000:]
    assert "No Prefect API URL provided" in done.stderr and "Traceback" not in done.stderr
    assert not list((fupin_home / "prefect").glob("*.db")), "a temporary Prefect server kept its database here"
