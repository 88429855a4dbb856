"""The edge: read settings, load config/ and open the warehouse, once per CLI call or flow run."""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass

from sqlalchemy import Engine

from config import Config, load_config
from core.settings import Settings
from warehouse.engine import make_engine


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    config: Config
    engine: Engine


def load_runtime(settings: Settings | None = None) -> Runtime:
    """Settings from the environment, the declaration from config/, and an engine for the warehouse."""
    settings = settings or Settings.from_env()
    settings.paths.ensure()
    return Runtime(
        settings=settings, config=load_config(settings.config_dir), engine=make_engine(settings.warehouse_url)
    )


def in_flow_run() -> bool:
    """True inside a Prefect flow run; false when a command runs the same steps in-process, without Prefect."""
    if "prefect.context" not in sys.modules:
        return False  # no run without Prefect loaded, and loading it only to ask costs a second
    from prefect.context import FlowRunContext

    return FlowRunContext.get() is not None


def run_artifact(markdown: str, key: str, description: str) -> str | None:
    """Attach a markdown artifact to the current run (its id); outside a run there is nothing to attach it to."""
    if not in_flow_run():
        return None
    from prefect.artifacts import create_markdown_artifact

    return str(create_markdown_artifact(markdown=markdown, key=key, description=description))


def run_log() -> logging.Logger | logging.LoggerAdapter:
    """The run's logger inside a flow run (shown in the UI), else this module's logger."""
    if in_flow_run():
        from prefect import get_run_logger

        return get_run_logger()
    return logging.getLogger("fupin")


def api_configured() -> bool:
    """True when runs can be recorded on a Prefect API: inside a run, or with PREFECT_API_URL set (in the
    environment, or in Prefect's settings once something loaded Prefect)."""
    if in_flow_run() or os.environ.get("PREFECT_API_URL"):
        return True
    if "prefect.settings" not in sys.modules:
        return False
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())


def run_table(rows: list[dict], key: str, description: str) -> str | None:
    """Attach a table artifact to the current run (its id); outside a run there is nothing to attach it to."""
    if not in_flow_run():
        return None
    from prefect.artifacts import create_table_artifact

    return str(create_table_artifact(table=rows, key=key, description=description))
