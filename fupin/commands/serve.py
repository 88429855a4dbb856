"""`fupin serve`: one command for one machine — a local Prefect server and UI, work pool, deployments, worker."""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    import subprocess

    from core.settings import Settings
    from fupin.inbox_watch import InboxWatch
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
        help="Prefect's own database (default SQLite under FUPIN_HOME/prefect); a postgresql:// URL for heavy "
        "fan-out or several machines (created empty beforehand; the server migrates it).",
    ),
    poll_seconds: float = typer.Option(
        5.0,
        "--poll-seconds",
        help="How often the worker here asks for scheduled runs anyway. A run the UI, a Retry or a command "
        "creates starts at once (its Scheduled event wakes the worker); the poll finds runs that waited for a "
        "concurrency slot, and every run should the event stream drop. Faster is slower: each poll is a write on "
        "Prefect's SQLite database, and at 0.5 s a sweep's recorded runs took 5× as long to create.",
    ),
    web: bool = typer.Option(
        True, "--web/--no-web", help="Start the platform (fupin web, FUPIN_WEB_HOST:FUPIN_WEB_PORT) beside the UI."
    ),
    worker: bool = typer.Option(
        True, "--worker/--no-worker", help="Start a worker here too (--no-worker: the server only, workers elsewhere)."
    ),
) -> None:
    """Start a local Prefect server with its UI, create the work pool, deploy prefect.yaml and start a worker.

    Prefect's data live in FUPIN_HOME/prefect, so starting again finds the same history. While it runs, its address
    is kept in FUPIN_HOME/prefect/served.json, so other `fupin` commands create their runs here. From the 1st to
    the 10th it looks into the inbox at half past each hour and starts ingest-inbox only when new files wait. Ctrl-C
    (or SIGTERM) stops everything this command started.
    """

    from config import load_config
    from core.errors import CannotWork, FupinError
    from core.served import clear_served, write_served
    from core.settings import Settings, SettingsError
    from fupin.inbox_watch import InboxWatch
    from fupin.office import Office

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise FupinError(str(exc)) from exc
    config = load_config(settings.config_dir)
    office = Office(settings, host=host, port=port, database_url=prefect_db, poll_seconds=poll_seconds)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    # Started in the background a process may inherit an ignored SIGINT, which its children would inherit too
    # and then shrug off the SIGINT that stop() sends them: take SIGINT back before starting any child.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    served = False
    try:
        with console.status(f"starting the Prefect server at {office.ui_url} …"):
            office.start_server()
        if worker:
            office.start_warm()  # imports while the deployments are made
        with console.status("creating the work pool and deploying prefect.yaml …"):
            pool = office.deploy()
        if worker:
            office.start_worker(pool)
        web_url = None
        if web:
            office.start_web()
            with console.status("starting the platform …"):
                web_url = office.wait_for_web()
        write_served(settings.paths.prefect_home, office.api_url, office.ui_url, web_url)
        served = True
        watch = InboxWatch.starting(
            settings.paths.inbox, [u.code for u in config.units], config.calendar, office.api_url
        )
        console.print(
            f"[bold green]Prefect UI:[/] {office.ui_url}   (work pool [bold]{pool}[/], "
            f"{'a worker here' if worker else 'no worker here'}, data in {settings.paths.prefect_home}, "
            f"logs in {settings.paths.logs})"
        )
        if web:
            _say_web(settings)
        console.print("Ctrl-C stops the server and the worker.")
        dead = _keep_watch(office, watch, settings)
        raise CannotWork(f"a child process stopped unexpectedly (exit {dead.returncode}); see {settings.paths.logs}")
    except KeyboardInterrupt:
        console.print("stopping …")
    finally:
        if served:  # only our own record: a refused start must not erase the address of the server that answers
            clear_served(settings.paths.prefect_home)
        office.stop()
    console.print("stopped.")


def _keep_watch(office: Office, watch: InboxWatch, settings: Settings) -> subprocess.Popen:
    """Tick the inbox watch every second until the server or the worker stops; the stopped child."""
    import datetime as dt
    import time

    web_said = False
    while (dead := office.dead_child()) is None:
        try:
            if waiting := watch.tick(dt.datetime.now(dt.UTC)):
                console.print(f"inbox: {waiting} file(s) waiting, ingest-inbox started / 收件箱有 {waiting} 个文件")
        except OSError as exc:
            console.print(f"[yellow]inbox watch:[/] could not reach the Prefect API ({exc}); trying again soon")
        if office.web is not None and office.web.poll() is not None and not web_said:
            console.print(f"[yellow]the platform stopped (a busy port?); see {settings.paths.logs / 'web.log'}[/]")
            web_said = True
        time.sleep(1)
    return dead


def _say_web(settings: Settings) -> None:
    host, port = os.environ.get("FUPIN_WEB_HOST") or "127.0.0.1", os.environ.get("FUPIN_WEB_PORT") or "8000"
    console.print(f"[bold green]平台 platform:[/] http://{host}:{port}   (logs in {settings.paths.logs / 'web.log'})")


def register(app: typer.Typer) -> None:
    app.command()(serve)
