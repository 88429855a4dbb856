"""Every `fupin` command explains itself, the help lists the exit codes, and asking for help loads nothing heavy."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.main import get_command

from fupin.cli import COMMAND_MODULES, app

COMMANDS = sorted(get_command(app).list_commands(None))  # type: ignore[attr-defined]
HEAVY = ("prefect", "pandas", "pandera", "sqlalchemy", "openpyxl")


def _heavy_after(code: str) -> list[str]:
    """The heavy packages a fresh interpreter holds after running `code`."""
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    return done.stdout.split()


def _words(text: str) -> str:
    return " ".join(text.split())


def test_the_app_has_its_commands() -> None:
    assert {"init", "templates", "ingest", "labor", "publish", "export", "docs", "serve"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, cli: Callable[..., int], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(command, "--help") == 0
    out = capsys.readouterr().out
    assert "Usage" in out and len(out.splitlines()) > 3


def test_the_help_lists_the_exit_codes(cli: Callable[..., int], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("--help") == 0
    out = _words(capsys.readouterr().out)
    for code in ("0 成功 ok", "1 输入被拒 an input was rejected", "2 用法错误 a usage error", "3 无法完成"):
        assert code in out
    assert "Prefect API unreachable" in out


def test_help_writes_nothing(
    cli: Callable[..., int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FUPIN_HOME", raising=False)
    assert cli("init", "--help") == 0 and cli("--help") == 0
    assert list(tmp_path.iterdir()) == []


def test_importing_the_cli_loads_nothing_heavy() -> None:
    assert _heavy_after("import fupin.cli") == []


@pytest.mark.parametrize(
    "module",
    COMMAND_MODULES,
)
def test_a_command_module_keeps_its_heavy_imports_inside_its_functions(module: str) -> None:
    """`fupin --help` imports every command module: none may load Prefect, pandas or the database layer."""
    assert _heavy_after(f"import {module}") == []


def test_help_runs_without_prefect_or_pandas() -> None:
    code = "import contextlib, io\nfrom fupin.cli import run\n"
    code += "with contextlib.redirect_stdout(io.StringIO()):\n    run(['--help'])"
    assert not {"prefect", "pandas", "pandera"} & set(_heavy_after(code))


def test_bad_month_is_a_usage_error(fupin_home: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fupin.cli", "templates", "--month", "2020-13"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "2020-13" in done.stderr and "Traceback" not in done.stderr


def test_templates_command_writes_every_unit(fupin_home: Path, cfg, cli: Callable[..., int]) -> None:
    assert cli("templates", "--month", "2020-09", "--out", str(fupin_home / "t")) == 0
    assert len(list((fupin_home / "t").glob("*.xlsx"))) == len(cfg.units)
