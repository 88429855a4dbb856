"""Which views analysts may read, and a PostgreSQL role that can read those and nothing else."""
from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import Column, Connection, Select, Table, TableClause, text
from sqlalchemy.sql import visitors

from config import Config
from warehouse.views import View

RESTRICTED_PREFIX = "restricted_"
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def restricted_outputs(select: Select) -> list[str]:
    """Output columns of `select` that are (aliases of) a restricted_ table's column."""
    return [col.name for col in select.selected_columns
            if any(isinstance(base, Column) and isinstance(base.table, Table)
                   and base.table.name.startswith(RESTRICTED_PREFIX) for base in col.proxy_set)]


def restricted_views(cfg: Config, views: Sequence[View]) -> set[str]:
    """Views that read a restricted_ table (unless they only count its rows), or another restricted view."""
    out: set[str] = set()
    for view in views:  # views come in dependency order, so a dependency is judged before its dependants
        select = view.build(cfg)
        names = {el.name for el in visitors.iterate(select) if isinstance(el, TableClause)}
        reads = any(n.startswith(RESTRICTED_PREFIX) for n in names)
        if reads and view.counts_restricted and not restricted_outputs(select):
            reads = False
        if reads or (names | set(view.depends_on)) & out:
            out.add(view.name)
    return out


def analyst_views(cfg: Config, views: Sequence[View]) -> list[View]:
    """The documented views an analyst may read: every registered view that touches no restricted data."""
    hidden = restricted_views(cfg, views)
    return [v for v in views if v.name not in hidden]


def grant_analyst(conn: Connection, role: str, views: Sequence[str], login: bool = False) -> None:
    """Create `role` if needed and leave it with SELECT on `views` only (PostgreSQL; views run as their owner)."""
    if not ROLE_NAME.match(role):
        raise ValueError(f"role name must be lower-case letters, digits and _, not {role!r}")
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if not exists:
        conn.execute(text(f'CREATE ROLE "{role}" {"LOGIN" if login else "NOLOGIN"}'))
    elif login:
        conn.execute(text(f'ALTER ROLE "{role}" LOGIN'))
    database = conn.execute(text("SELECT current_database()")).scalar_one()
    conn.execute(text(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"'))
    conn.execute(text(f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"'))
    conn.execute(text(f'GRANT USAGE ON SCHEMA public TO "{role}"'))
    if views:
        conn.execute(text(f'GRANT SELECT ON {", ".join(views)} TO "{role}"'))
