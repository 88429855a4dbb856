"""The edge's one choice of how flows run: on a served Prefect API (runs show in the UI) or in-process without one."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.served import served_api_url
from core.settings import Settings


@dataclass
class Mode:
    """Where this process's runs go: a Prefect API address, or None for in-process (no Prefect server at all)."""

    api_url: str | None = None


MODE = Mode()


def choose_mode(settings: Settings, environ: dict[str, str] | None = None) -> Mode:
    """Once per command: use PREFECT_API_URL or a running `fupin serve`, else run in-process and never start a
    temporary Prefect server (Prefect would start one on the first API call)."""
    env = os.environ if environ is None else environ
    MODE.api_url = served_api_url(settings.paths.prefect_home, dict(env))
    if MODE.api_url:
        from fupin.office import CLIENT_RETRIES

        env["PREFECT_API_URL"] = MODE.api_url
        for name, value in CLIENT_RETRIES.items():  # ride out a busy server like serve's own children do
            env.setdefault(name, value)
    return MODE


def call_flow(flow: Any, /, **params: Any) -> Any:
    """Run a flow as a Prefect run when an API is chosen, else its steps in-process (flow.fn, no Prefect)."""
    fn: Callable[..., Any] = flow if MODE.api_url else flow.fn
    return fn(**params)
