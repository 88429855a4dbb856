"""The edge: read settings, load config/ and open the warehouse, once per CLI call or flow run."""

from __future__ import annotations

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
