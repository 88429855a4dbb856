"""Run and generate Alembic migrations from code, without an alembic.ini to keep in step."""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from warehouse.partition import is_partition
from warehouse.schema import metadata

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None, connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """What the schema describes: the person table's monthly partitions are its parts, not tables of their own."""
    return not (type_ == "table" and is_partition(name))


def upgrade(connection: Connection) -> None:
    """Bring the warehouse on `connection` to the newest revision."""
    command.upgrade(alembic_config(connection=connection), "head")


def pending_changes(connection: Connection) -> list:
    """Differences between the live database and schema.py; empty when migrations are complete."""
    ctx = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include_name})
    return compare_metadata(ctx, metadata)


def autogenerate(message: str) -> None:
    """Write a new revision that takes an up-to-date SQLite database to schema.py."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/autogen.db"
        command.upgrade(alembic_config(url), "head")
        command.revision(alembic_config(url), message=message, autogenerate=True)


if __name__ == "__main__":
    import sys

    autogenerate(" ".join(sys.argv[1:]) or "schema change")
