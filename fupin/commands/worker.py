"""`fupin worker`: a worker for the office's `fupin` pool on another machine, pointed at the server's API."""

from __future__ import annotations

import typer


def api_url_of(address: str) -> str:
    """The API address from what an operator types: the UI's address (http://host:4200) or the API's (…/api)."""
    address = address.strip().rstrip("/")
    return address if address.endswith("/api") else f"{address}/api"


def worker(
    api: str = typer.Option(
        None,
        "--api",
        envvar="PREFECT_API_URL",
        show_envvar=True,
        help="The office's Prefect API, e.g. http://prefect.office.lan:4200/api (the UI's address works too).",
    ),
    name: str = typer.Option(None, "--name", help="The worker's name in the UI (default fupin-<this host>)."),
    poll_seconds: float = typer.Option(
        10.0,
        "--poll-seconds",
        help="How often to ask for scheduled runs anyway (a run created on the server wakes this worker at once).",
    ),
) -> None:
    """Run a worker for the `fupin` pool here, for a `fupin serve` on another machine (Ctrl-C stops it).

    Its flow runs see this machine's environment: FUPIN_HOME must be the same shared folder as on the server's
    machine, FUPIN_WAREHOUSE_URL the same warehouse, and the code at the same path (docs/deployment.md).
    Exit 2 without an API address, 3 when no Prefect API answers there.
    """
    import os
    import sys

    from core.errors import CannotWork, UsageError
    from core.settings import Settings, SettingsError
    from fupin.office import api_answers, client_env, ensure_pool, pool_name, worker_command

    if not api:
        raise UsageError("where is the office's Prefect server? give --api http://HOST:4200/api or PREFECT_API_URL")
    api_url = api_url_of(api)
    if not api_answers(api_url, timeout=5):
        raise CannotWork(f"no Prefect API answers at {api_url}: is `fupin serve` running there?")
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise UsageError(str(exc)) from exc
    pool = pool_name()
    ensure_pool(api_url, pool)
    env = client_env(api_url)
    env["FUPIN_HOME"] = str(settings.home)
    env["PREFECT_WORKER_QUERY_SECONDS"] = str(poll_seconds)
    typer.echo(f"worker for pool {pool} at {api_url}; FUPIN_HOME {settings.home}", err=True)
    sys.stdout.flush()
    # The worker takes this process's place: Ctrl-C and SIGTERM reach it directly (it takes both itself, even when
    # a background job left SIGINT ignored), and its exit code is ours.
    command = worker_command(pool, name)
    os.execve(command[0], command, env)


def register(app: typer.Typer) -> None:
    app.command()(worker)
