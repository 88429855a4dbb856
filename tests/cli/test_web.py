"""`fupin web` listens on FUPIN_WEB_HOST:FUPIN_WEB_PORT and serves the sign-in page with its security headers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.web.live import free_port


def wait_for(url: str, seconds: float = 60.0) -> httpx.Response:
    """The first answer from `url`, waiting for the server to come up."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_fupin_web_serves_on_the_configured_port(fupin_home: Path) -> None:
    port = free_port()
    env = {**os.environ, "FUPIN_WEB_HOST": "127.0.0.1", "FUPIN_WEB_PORT": str(port)}
    env.pop("PREFECT_API_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "fupin.cli", "web"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        answer = wait_for(f"http://127.0.0.1:{port}/unit")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
        assert answer.headers["x-frame-options"] == "DENY"
        assert "uvicorn" not in answer.headers.get("server", "")
        assert (fupin_home / "secrets" / "web.key").stat().st_mode & 0o077 == 0
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_fupin_serve_starts_the_platform_beside_the_ui(fupin_home: Path, monkeypatch) -> None:
    from core.settings import Settings
    from fupin.office import Office

    port = free_port()
    monkeypatch.setenv("FUPIN_WEB_PORT", str(port))
    office = Office(Settings.from_env(), port=free_port())
    office.settings.paths.ensure()
    office.start_web()
    try:
        assert wait_for(f"http://127.0.0.1:{port}/login").status_code == 200
    finally:
        office.stop()
    assert office.children == []
