"""Documented analyst views, built from config/ and the schema, created alike on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, text
from sqlalchemy.sql import Select

from config import Config


@dataclass(frozen=True)
class View:
    """One analyst view: its name, grain, column docs and the SELECT behind it.

    counts_restricted: the view reads a restricted_ table only to count people, and no output column comes from it
    (warehouse.access checks the second half); analysts may then read it.
    """

    name: str
    grain: str
    columns: dict[str, str]
    build: Callable[[Config], Select]
    depends_on: tuple[str, ...] = field(default=())
    counts_restricted: bool = False


REGISTRY: list[View] = []


def register(view: View) -> View:
    REGISTRY.append(view)
    return view


def all_views() -> list[View]:
    """Every registered view, in dependency order."""
    from warehouse.views import modules  # noqa: F401  (importing registers the views)

    done: list[View] = []
    pending = list(REGISTRY)
    while pending:
        ready = [v for v in pending if all(d in {x.name for x in done} for d in v.depends_on)]
        if not ready:
            raise RuntimeError(f"view dependencies cannot be met: {[v.name for v in pending]}")
        done.extend(ready)
        pending = [v for v in pending if v not in ready]
    return done


def create_views(conn: Connection, cfg: Config) -> list[str]:
    """Drop and re-create every view, so a change in config/ or code is always reflected."""
    views = all_views()
    grants = _view_grants(conn, [v.name for v in views])
    for view in reversed(views):
        conn.execute(text(f"DROP VIEW IF EXISTS {view.name}"))
    for view in views:
        sql = view.build(cfg).compile(conn, compile_kwargs={"literal_binds": True})
        conn.execute(text(f"CREATE VIEW {view.name} AS {sql}"))
    for name, role in grants:
        conn.execute(text(f'GRANT SELECT ON {name} TO "{role}"'))
    return [v.name for v in views]


def _view_grants(conn: Connection, names: list[str]) -> list[tuple[str, str]]:
    """SELECT grants on our views (PostgreSQL), so re-creating a view does not silently revoke an analyst role."""
    if conn.dialect.name != "postgresql" or not names:
        return []
    rows = conn.execute(
        text(
            "SELECT table_name, grantee FROM information_schema.role_table_grants WHERE privilege_type = 'SELECT' "
            "AND table_schema = current_schema() AND grantee <> current_user AND table_name = ANY(:names)"
        ),
        {"names": names},
    ).all()
    return [(r[0], r[1]) for r in rows if r[0] in names]
