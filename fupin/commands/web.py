"""`fupin web`: serve the platform (平台填报) on FUPIN_WEB_HOST:FUPIN_WEB_PORT (default 127.0.0.1:8000)."""

from __future__ import annotations

import os
import threading
from typing import Annotated

import typer


def web(
    host: Annotated[str, typer.Option("--host", envvar="FUPIN_WEB_HOST", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", envvar="FUPIN_WEB_PORT", help="Port to listen on.")] = 8000,
    trusted_proxies: Annotated[
        str,
        typer.Option(
            "--trusted-proxies",
            envvar="FUPIN_WEB_TRUSTED_PROXIES",
            help="Proxies whose X-Forwarded-For names the client (comma-separated addresses).",
        ),
    ] = "127.0.0.1",
) -> None:
    """Serve the reporting platform: units check and hand in their reports, the office watches the month.

    Submissions run as ingest-file runs in the Prefect UI when `fupin serve` runs, in-process otherwise.
    """
    import uvicorn

    from core.errors import UsageError
    from core.settings import SettingsError
    from flows.runtime import load_runtime
    from fupin.running import choose_mode
    from fupin.web.app import create_app
    from fupin.web.local import warm_up
    from fupin.web.settings import WebSettings

    rt = load_runtime()
    choose_mode(rt.settings)
    env = {**os.environ, "FUPIN_WEB_HOST": host, "FUPIN_WEB_PORT": str(port)}
    try:
        settings = WebSettings.from_env(rt.settings, env)
    except SettingsError as exc:
        raise UsageError(str(exc)) from exc
    app = create_app(rt, settings)
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    typer.echo(f"platform / 填报平台: http://{host}:{port}  (public address {settings.base_url})")
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=trusted_proxies,
        server_header=False,
        log_level="info",
    )


def register(app: typer.Typer) -> None:
    app.command()(web)
