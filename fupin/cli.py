"""The `fupin` command line: one Typer app; each command group lives in fupin/commands/, imported on first use."""

from __future__ import annotations

import importlib
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from typer._click.exceptions import ClickException
from typer.core import TyperGroup

from core.errors import EXIT_CANNOT_WORK, EXIT_OK, EXIT_USAGE, CannotWork, FupinError, UsageError

COMMAND_MODULES = [
    "fupin.commands.setup",
    "fupin.commands.labor",
    "fupin.commands.labor_lists",
    "fupin.commands.ingest",
    "fupin.commands.analyst",
    "fupin.commands.serve",
    "fupin.commands.worker",
    "fupin.commands.publish",
    "fupin.commands.review",
    "fupin.commands.users",
    "fupin.commands.web",
    "fupin.commands.targets",
    "fupin.commands.passwords",
]

EXIT_CODES = (
    "退出码 / exit codes: 0 成功 ok; 1 输入被拒 an input was rejected; 2 用法错误 a usage error (a bad month, "
    "a missing file, a missing or wrong PII key); 3 无法完成 the command could not do its work (warehouse or "
    "Prefect API unreachable, a crash, a timeout; details in FUPIN_HOME/logs)."
)


class Commands(TyperGroup):
    """The command group: the command modules are imported when a command or the command list is asked for, so
    importing fupin.cli stays cheap (each module keeps its heavy imports inside its functions)."""

    _loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        modules = typer.Typer()
        for name in COMMAND_MODULES:
            importlib.import_module(name).register(modules)
        self.commands = {**typer.main.get_group(modules).commands, **self.commands}

    def list_commands(self, ctx: Any) -> list[str]:
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        self._load()
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    name="fupin",
    cls=Commands,
    help="Monthly data pipeline of 北京市扶贫支援办: ingest the units' reports and the HR labor records, "
    "validate, load the warehouse, publish the month.\n\nData live under FUPIN_HOME (default ./var); the "
    "warehouse is FUPIN_WAREHOUSE_URL (default a SQLite file in FUPIN_HOME). Commands create their runs on a "
    "running `fupin serve` (or PREFECT_API_URL) so they show in the Prefect UI; otherwise they run the same steps "
    "in this process, without Prefect.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _group() -> None:
    """Nothing to do before a command; Typer builds a group only around a callback or registered commands."""


def _choose_where_runs_go() -> None:
    """Once, before anything imports Prefect (it reads its settings at import): a served API or in-process."""
    from core.settings import Settings
    from fupin.running import choose_mode

    explicit_api = bool(os.environ.get("PREFECT_API_URL"))
    settings = Settings.from_env()
    choose_mode(settings)
    # Prefect's default profile starts a temporary server on the first API call when no API is set; off, such a
    # call fails at once ("No Prefect API URL provided") instead of costing seconds and hiding the mistake.
    os.environ["PREFECT_SERVER_EPHEMERAL_ENABLED"] = "false"
    if not explicit_api:  # Prefect's local files under FUPIN_HOME, where `fupin serve` keeps its own
        os.environ.setdefault("PREFECT_HOME", str(settings.paths.prefect_home))
    if home := os.environ.get("PREFECT_HOME"):  # Prefect makes it at import without parents, else only warns
        Path(home).mkdir(mode=0o700, parents=True, exist_ok=True)


def _restore_environ(saved: dict[str, str]) -> None:
    """The command's changes to the environment end with it (in-process callers such as tests keep theirs)."""
    os.environ.clear()
    os.environ.update(saved)


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and e not in seen:
        seen.append(e)
        e = e.__cause__ or e.__context__
    return seen


def _out_of_reach(exc: BaseException) -> CannotWork | None:
    """The one-line error when the warehouse or the Prefect API could not be reached (anywhere in the chain)."""
    from core.errors import unreadable_warehouse

    db = sys.modules.get("sqlalchemy.exc")
    http = sys.modules.get("httpx")
    for e in _causes(exc):
        if db and isinstance(e, db.OperationalError | db.InterfaceError):
            return unreadable_warehouse(e)
        if db and isinstance(e, db.ProgrammingError) and getattr(e.orig, "sqlstate", None) == "42P01":
            return unreadable_warehouse(e)  # an uninitialised PostgreSQL warehouse: undefined_table
        if http and isinstance(e, http.TransportError | http.HTTPStatusError):
            from fupin.running import MODE

            return CannotWork(
                f"无法连接 Prefect API / cannot reach the Prefect API at {MODE.api_url or '(none)'} "
                f"({type(e).__name__}): check `fupin serve` or PREFECT_API_URL"
            )
    return None


def _log_crash(exc: BaseException) -> Path | None:
    """Keep the traceback of an unexpected failure in FUPIN_HOME/logs for whoever investigates."""
    from core.settings import Settings

    try:
        logs = Settings.from_env().paths.logs
        logs.mkdir(parents=True, exist_ok=True)
        path = logs / f"fupin-error-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
        path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
        return path
    except Exception:  # noqa: BLE001 - the report must not hide the original error
        return None


def _say(message: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, soft_wrap=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False)


def run(args: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code: 0 ok, 1 an input was rejected, 2 a usage error, 3 could not work."""
    from core.settings import owner_only

    owner_only()  # before anything is written under FUPIN_HOME, and for every child process
    saved = dict(os.environ)
    try:
        return _run(args)
    finally:
        _restore_environ(saved)


def _wants_help(args: Sequence[str] | None) -> bool:
    words = sys.argv[1:] if args is None else list(args)
    return not words or "--help" in words


def _run(args: Sequence[str] | None) -> int:
    try:
        if not _wants_help(args):  # help touches nothing: no settings read, no folder made
            _choose_where_runs_go()
        code = app(args=args, standalone_mode=False)
        return code if isinstance(code, int) else EXIT_OK
    except ClickException as exc:  # a usage error Click found: a missing argument, an unknown option or command
        exc.show()
        return EXIT_USAGE
    except Exception as exc:
        return _failed(exc)


def _known(exc: Exception) -> FupinError | None:
    """The one-line error an expected failure stands for, with its exit code; None for a bug."""
    from core.settings import SettingsError

    if isinstance(exc, FupinError):
        return exc
    if isinstance(exc, SettingsError):
        return UsageError(str(exc))
    if isinstance(exc, typer.Abort):
        return CannotWork("已中断 / interrupted")
    return _out_of_reach(exc)


def _failed(exc: Exception) -> int:
    """Say why the command failed, in one line; a bug's traceback goes to FUPIN_HOME/logs (or FUPIN_DEBUG=1)."""
    if known := _known(exc):
        _say(str(known))
        return known.exit_code
    if os.environ.get("FUPIN_DEBUG", "0") not in ("", "0"):
        traceback.print_exception(exc)
        return EXIT_CANNOT_WORK
    where = _log_crash(exc)
    first = str(exc).splitlines()[0] if str(exc) else ""
    _say(f"意外错误 / unexpected error: {type(exc).__name__}: {first}")
    _say(f"details: {where}" if where else "set FUPIN_DEBUG=1 to see the traceback")
    return EXIT_CANNOT_WORK


def main() -> None:
    """The `fupin` entry point: exits with run()'s code."""
    sys.exit(run())


if __name__ == "__main__":
    main()
