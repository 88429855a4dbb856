"""Where a running `fupin serve` answers: its Prefect API address, kept under FUPIN_HOME while it runs."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import urllib.request
from pathlib import Path

SERVED_FILE = "served.json"


def served_file(prefect_home: Path) -> Path:
    return prefect_home / SERVED_FILE


def write_served(prefect_home: Path, api_url: str, ui_url: str, web_url: str | None = None) -> Path:
    """Record the API and UI address of the server this process runs, and the platform's local address when it
    started one (owner-only, replaced atomically)."""
    prefect_home.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = served_file(prefect_home)
    tmp = path.with_suffix(".tmp")
    record = {"api_url": api_url, "ui_url": ui_url, "web_url": web_url, "pid": os.getpid()}
    tmp.write_text(json.dumps(record), encoding="utf-8")
    tmp.replace(path)
    return path


def clear_served(prefect_home: Path) -> None:
    served_file(prefect_home).unlink(missing_ok=True)


def answers(url: str, timeout: float) -> bool:
    """True when `url` (a health check) answers 200 within `timeout` seconds."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status == 200
    except OSError:
        return False


def _recorded(prefect_home: Path, key: str) -> str | None:
    try:
        recorded = json.loads(served_file(prefect_home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = recorded.get(key) if isinstance(recorded, dict) else None
    return value if isinstance(value, str) else None


def served_api_url(prefect_home: Path, environ: dict[str, str] | None = None, timeout: float = 0.5) -> str | None:
    """The Prefect API commands should create their runs on: PREFECT_API_URL if set, else the address a running
    `fupin serve` left under FUPIN_HOME when it answers; None means run in-process, without Prefect."""
    env = os.environ if environ is None else environ
    if env.get("PREFECT_API_URL"):
        return env["PREFECT_API_URL"]
    api_url = _recorded(prefect_home, "api_url")
    return api_url if api_url and answers(f"{api_url}/health", timeout) else None


def served_web_url(prefect_home: Path, timeout: float = 0.5) -> str | None:
    """The local address of the platform a running `fupin serve` started, when it answers; None otherwise."""
    web_url = _recorded(prefect_home, "web_url")
    return web_url if web_url and answers(f"{web_url}/healthz", timeout) else None


def local_token(secret: bytes) -> str:
    """The bearer token of `fupin ingest`'s hand-off to the platform: whoever can read the platform's secret (the
    owner of FUPIN_HOME) holds it, and nobody else."""
    return hmac.new(secret, b"fupin local ingest", hashlib.sha256).hexdigest()
