"""`fupin web` listens on FUPIN_WEB_HOST:FUPIN_WEB_PORT and serves the sign-in page with its security headers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.web.live import free_port


def test_fupin_web_serves_on_the_configured_port(fupin_home: Path) -> None:
    port = free_port()
    env = {**os.environ, "FUPIN_WEB_HOST": "127.0.0.1", "FUPIN_WEB_PORT": str(port)}
    env.pop("PREFECT_API_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "fupin.cli", "web"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline, answer = time.monotonic() + 60, None
        while answer is None and time.monotonic() < deadline:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/unit", timeout=2)
            except httpx.HTTPError:
                time.sleep(0.2)
        assert answer is not None, "fupin web did not answer"
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
        assert answer.headers["x-frame-options"] == "DENY"
        assert "uvicorn" not in answer.headers.get("server", "")
        assert (fupin_home / "secrets" / "web.key").stat().st_mode & 0o077 == 0
    finally:
        server.terminate()
        server.wait(timeout=30)
