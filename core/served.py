"""Where a running `fupin serve` answers: its Prefect API address, kept under FUPIN_HOME while it runs."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

SERVED_FILE = "served.json"


def served_file(prefect_home: Path) -> Path:
    return prefect_home / SERVED_FILE


def write_served(prefect_home: Path, api_url: str, ui_url: str) -> Path:
    """Record the API and UI address of the server this process runs (owner-only, replaced atomically)."""
    prefect_home.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = served_file(prefect_home)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"api_url": api_url, "ui_url": ui_url, "pid": os.getpid()}), encoding="utf-8")
    tmp.replace(path)
    return path


def clear_served(prefect_home: Path) -> None:
    served_file(prefect_home).unlink(missing_ok=True)


def _healthy(api_url: str, timeout: float) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as answer:
            return answer.status == 200
    except OSError:
        return False


def served_api_url(prefect_home: Path, environ: dict[str, str] | None = None, timeout: float = 0.5) -> str | None:
    """The Prefect API commands should create their runs on: PREFECT_API_URL if set, else the address a running
    `fupin serve` left under FUPIN_HOME when it answers; None means run in-process, without Prefect."""
    env = os.environ if environ is None else environ
    if env.get("PREFECT_API_URL"):
        return env["PREFECT_API_URL"]
    try:
        recorded = json.loads(served_file(prefect_home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    api_url = recorded.get("api_url") if isinstance(recorded, dict) else None
    return api_url if isinstance(api_url, str) and _healthy(api_url, timeout) else None
