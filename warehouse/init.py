"""Create or upgrade the warehouse, seed its dimensions and (re)create its views: safe to run any number of times."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine

from config import Config
from warehouse import migrate
from warehouse.seed import seed_dimensions
from warehouse.views import create_views


def init_warehouse(engine: Engine, cfg: Config, months: Sequence[str] = ()) -> dict[str, int]:
    """Upgrade to the newest schema, then seed and create views in one transaction; returns rows changed."""
    with engine.begin() as conn:
        migrate.upgrade(conn)
    with engine.begin() as conn:
        changed = seed_dimensions(conn, cfg, months)
        create_views(conn, cfg)
    return changed
