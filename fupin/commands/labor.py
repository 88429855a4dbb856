"""`fupin labor`: ingest one month of the HR bureau's labor records and show Attachment 1."""

from __future__ import annotations

import atexit
import gc
from pathlib import Path
from typing import TYPE_CHECKING, cast

import typer
from rich.console import Console
from rich.table import Table

from core.errors import CannotWork, FupinError, UsageError
from core.month import Month
from tasks.intake.provenance import cli_source

if TYPE_CHECKING:
    from prefect.states import State

    from core.settings import Settings
    from flows.runtime import Runtime
    from tasks.labor.ahead import ReadAhead

console = Console(soft_wrap=True)  # paths must survive copy and paste, never wrapped mid-name


def preflight(rt: Runtime | None = None) -> None:
    """Say a missing, short or different PII key (or a missing warehouse) in one line, before any run starts."""
    from flows.labor_steps import pii_key
    from flows.runtime import load_runtime
    from tasks.labor.key import require_key
    from tasks.labor.load import require_warehouse

    own = rt is None
    rt = rt or load_runtime()
    try:
        key = pii_key(rt.settings)
        require_warehouse(rt.engine, rt.config)
        require_key(rt.engine, key)
    finally:
        if own:
            rt.engine.dispose()


def _in_process(params: dict, settings: Settings, ahead: ReadAhead) -> dict:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from flows.labor_steps import STAGES, ingest_labor_steps
    from flows.runtime import load_runtime

    rt = load_runtime(settings)  # one runtime for the checks and the steps: the declaration is read once
    try:
        preflight(rt)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            bar = progress.add_task("labor", total=len(STAGES))
            seen: list[str] = []

            def on_stage(name: str) -> None:
                progress.update(bar, completed=len(seen), description=name)
                seen.append(name)

            return ingest_labor_steps(**params, on_stage=on_stage, rt=rt, ahead=ahead)
    finally:
        # Closed here, not by the collector at exit: SQLite checkpoints and removes its WAL as the connection closes.
        rt.engine.dispose()
        # The collector's last passes at exit walked every object imported for the load (pandas, SQLAlchemy,
        # pandera): 0.15-0.3 s after the last line. Frozen, they are left to the OS with the process, as the memory is;
        # registered here, it runs only when this process ends.
        atexit.register(gc.freeze)


def _run(params: dict) -> dict:
    """In-process without Prefect, or as a run on `fupin serve`'s API so it shows in the UI; a rejection is exit 1,
    a run that failed otherwise is exit 3."""
    from fupin.running import MODE

    if not MODE.api_url:
        from tasks.labor.ahead import ReadAhead

        # The child that reads, checks and keys the file starts now: its imports run while this process archives the
        # file, imports, reads config/ and connects (tasks/labor/ahead.py).
        with ReadAhead.start() as ahead:
            from core.settings import Settings, SettingsError
            from tasks.intake.archive import receive_file
            from tasks.intake.received import name_of, param_path

            settings = Settings.from_env()
            try:
                key = settings.require_pii_key()  # said before the archive is touched; its match is checked later
            except SettingsError as exc:
                raise UsageError(str(exc)) from None
            settings.paths.ensure()
            given = param_path(params["path"])
            # Archived here, so that the child reads the archived copy; the steps take this copy as theirs.
            ahead.read(receive_file(given, settings.paths.archive, 0), name_of(given), settings.config_dir, key)
            return _in_process(params, settings, ahead)
    preflight()
    from flows.ingest_labor import ingest_labor

    with console.status("ingesting as a run on the Prefect server (it shows in the UI) …"):
        # Called from sync code, the flow returns its State itself; the annotation adds an async caller's awaitable.
        state = cast("State", ingest_labor(**params, return_state=True))
    if state.is_completed():
        return state.result()
    if state.name == "Rejected":
        raise FupinError(state.message or "rejected")
    raise CannotWork(f"the ingest-labor run ended {state.name}: {state.message}")


def labor(
    path: Path = typer.Argument(..., help="The HR bureau's export: .xlsx, or .csv in UTF-8 or GBK/GB18030."),
    month: str = typer.Option(..., "--month", help="Reporting month, YYYY-MM (e.g. 2020-07)."),
    max_invalid_ratio: float = typer.Option(
        0.0,
        "--max-invalid-ratio",
        min=0.0,
        max=1.0,
        help="Share of invalid rows tolerated (0-1); above it the file is rejected and nothing is loaded.",
    ),
) -> None:
    """Ingest a labor file: archive it, check every identity number, load the warehouse (in bounded memory)."""
    month = Month(month)
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    params = {
        "path": str(path.resolve()),
        "month": month,
        "max_invalid_ratio": max_invalid_ratio,
        "source": cli_source(),
    }
    result = _run(params)
    table = Table("", "", title=f"labor {month}: submission {result['submission_id']}")
    for label, value in (
        ("persons (distinct)", result["persons"]),
        ("insured", result["insured"]),
        ("central/western, insured (附件1 表1)", result["central_western"]),
        ("rows excluded", result["excluded_rows"]),
        ("repeated numbers", result["repeated"]),
    ):
        table.add_row(label, "–" if value is None else str(value))
    if result["already_loaded"]:
        console.print("[yellow]this exact file was already loaded; nothing changed[/]")
    console.print(table)
    console.print(f"the district lists are written on demand: `fupin labor-lists --month {month}`")


def rekey(
    new_key_file: Path = typer.Option(..., "--new-key-file", help="A file holding the new key (at least 32 bytes)."),
    old_key_file: Path | None = typer.Option(
        None, "--old-key-file", help="A file holding the old key; default: the configured FUPIN_PII_KEY(_FILE)."
    ),
) -> None:
    """Re-key every stored person under a new PII key, in one transaction (the archived labor files are read back)."""
    from core.settings import SettingsError, read_key_file
    from flows.labor_steps import pii_key
    from flows.runtime import load_runtime
    from tasks.labor.rekey import rekey as rekey_all

    rt = load_runtime()
    try:
        old = read_key_file(old_key_file, "--old-key-file") if old_key_file else pii_key(rt.settings)
        new = read_key_file(new_key_file, "--new-key-file")
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    with console.status("re-keying the stored persons …"):
        done = rekey_all(rt.engine, rt.config, rt.settings.paths.home, old, new)
    console.print(
        f"re-keyed {done.persons} persons of {done.submissions} labor files; the warehouse now expects the "
        "new key: point FUPIN_PII_KEY / FUPIN_PII_KEY_FILE at it"
    )


def register(app: typer.Typer) -> None:
    app.command()(labor)
    app.command()(rekey)
