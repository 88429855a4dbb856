"""`fupin serve`: one command for one machine — a local Prefect server and UI, work pool, deployments, worker."""

from __future__ import annotations

import signal
import time

import typer
from rich.console import Console

from core.errors import FupinError
from core.settings import Settings, SettingsError
from fupin.office import Office

console = Console(soft_wrap=True)  # paths must survive copy and paste, never wrapped mid-name


def _stop_on_sigterm(*_: object) -> None:
    raise KeyboardInterrupt


def serve(
    port: int = typer.Option(4200, "--port", envvar="FUPIN_SERVE_PORT", help="Port of the UI and API."),
    host: str = typer.Option("127.0.0.1", "--host", envvar="FUPIN_SERVE_HOST", help="Address to listen on."),
    prefect_db: str = typer.Option(
        None,
        "--prefect-db",
        envvar="PREFECT_API_DATABASE_CONNECTION_URL",
        show_envvar=True,
        help="Prefect's own database (default SQLite under FUPIN_HOME/prefect); a postgresql+asyncpg:// URL "
        "for heavy fan-out or several machines.",
    ),
    poll_seconds: float = typer.Option(10.0, "--poll-seconds", help="How often the worker asks for scheduled runs."),
) -> None:
    """Start a local Prefect server with its UI, create the work pool, deploy prefect.yaml and start a worker.

    Prefect's data live in FUPIN_HOME/prefect, so starting again finds the same history. Ctrl-C (or SIGTERM)
    stops everything this command started.
    """
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise FupinError(str(exc)) from exc
    office = Office(settings, host=host, port=port, database_url=prefect_db, poll_seconds=poll_seconds)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    # Started in the background a process may inherit an ignored SIGINT, which its children would inherit too
    # and then shrug off the SIGINT that stop() sends them: take SIGINT back before starting any child.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with console.status(f"starting the Prefect server at {office.ui_url} …"):
            office.start_server()
        with console.status("creating the work pool and deploying prefect.yaml …"):
            pool = office.deploy()
        office.start_worker(pool)
        console.print(
            f"[bold green]Prefect UI:[/] {office.ui_url}   (work pool [bold]{pool}[/], data in "
            f"{settings.paths.prefect_home}, logs in {settings.paths.logs})"
        )
        console.print("Ctrl-C stops the server and the worker.")
        while (dead := office.dead_child()) is None:
            time.sleep(1)
        raise FupinError(f"a child process stopped unexpectedly (exit {dead.returncode}); see {settings.paths.logs}")
    except KeyboardInterrupt:
        console.print("stopping …")
    finally:
        office.stop()
    console.print("stopped.")


def register(app: typer.Typer) -> None:
    app.command()(serve)
