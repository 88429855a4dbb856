"""Which views analysts may read, and a PostgreSQL role that can read those and nothing else."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import Column, Connection, Select, Table, TableClause, text
from sqlalchemy.sql import visitors

from config import Config
from core.errors import FupinError, UsageError
from warehouse.views import View

RESTRICTED_PREFIX = "restricted_"
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def restricted_outputs(select: Select) -> list[str]:
    """Output columns of `select` that are (aliases of) a restricted_ table's column."""
    return [
        col.name
        for col in select.selected_columns
        if any(
            isinstance(base, Column) and isinstance(base.table, Table) and base.table.name.startswith(RESTRICTED_PREFIX)
            for base in col.proxy_set
        )
    ]


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


_SYSTEM_SCHEMA = "n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'"
_OWNS_SOMETHING = text(f"""
SELECT owner::regrole::text FROM (
    SELECT datdba AS owner FROM pg_database WHERE datname = current_database()
    UNION SELECT n.nspowner FROM pg_namespace n WHERE {_SYSTEM_SCHEMA}
    UNION SELECT c.relowner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {_SYSTEM_SCHEMA}
    UNION SELECT p.proowner FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {_SYSTEM_SCHEMA}
    UNION SELECT t.typowner FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {_SYSTEM_SCHEMA}
) o WHERE pg_has_role(:r, owner, 'MEMBER') ORDER BY 1""")


# pg_has_role() is true of every role for a superuser, so the pipeline's own roles are followed by hand.
_SUPER_OR_MINE = text("""
WITH RECURSIVE mine(oid) AS (
    SELECT oid FROM pg_roles WHERE rolname = current_user
    UNION SELECT m.roleid FROM pg_auth_members m JOIN mine ON m.member = mine.oid
) SELECT r.rolsuper, r.oid IN (SELECT oid FROM mine) FROM pg_roles r WHERE r.rolname = :r""")


def role_refusal(conn: Connection, role: str) -> tuple[str, str] | None:
    """Why `role` must not become an analyst (Chinese, English), or None when it may."""
    if role == "public" or role.startswith("pg_"):
        return "这是 PostgreSQL 保留的角色名", "the name is reserved by PostgreSQL"
    row = conn.execute(_SUPER_OR_MINE, {"r": role}).first()
    if row is None:
        return None
    if row[0]:
        return "该角色是超级用户，无法限定为只读视图", "it is a superuser, so it cannot be limited to the views"
    if row[1]:
        return (
            "这是流水线自身连接所用的角色（或其所属角色），限制它会撤销流水线自己的权限",
            (
                "it is the role the pipeline connects as (or one it belongs to): limiting it would revoke "
                "the pipeline's own rights"
            ),
        )
    owners = conn.execute(_OWNS_SOMETHING, {"r": role}).scalars().all()
    if owners:
        listed = ", ".join(owners)
        return (
            f"该角色拥有（或属于拥有）数据仓库数据库或其对象的角色（{listed}），限制它会撤销流水线自己的权限",
            (
                f"it owns, or belongs to a role that owns, the warehouse database or its objects ({listed}): "
                "limiting it would revoke the pipeline's own rights"
            ),
        )
    return None


def public_can_connect(conn: Connection) -> bool:
    """Whether PUBLIC (every role on the server) may connect to the current database."""
    return bool(
        conn.execute(
            text(
                "SELECT datacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(datacl) a WHERE a.grantee = 0 "
                "AND a.privilege_type = 'CONNECT') FROM pg_database WHERE datname = current_database()"
            )
        ).scalar_one()
    )


def grant_analyst(conn: Connection, role: str, views: Sequence[str], login: bool = False) -> None:
    """Create `role` if needed and leave it with SELECT on `views` only (PostgreSQL; views run as their owner).

    The database stops being open to PUBLIC: only its owner, superusers and roles granted CONNECT may connect.
    """
    if not ROLE_NAME.match(role):
        raise ValueError(f"role name must be lower-case letters, digits and _, not {role!r}")
    refusal = role_refusal(conn, role)
    if refusal:
        raise UsageError(f"拒绝将角色 {role} 设为分析员：{refusal[0]}\nrefused to make {role} an analyst: {refusal[1]}")
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
    if not exists:
        conn.execute(text(f'CREATE ROLE "{role}" {"LOGIN" if login else "NOLOGIN"}'))
    elif login:
        conn.execute(text(f'ALTER ROLE "{role}" LOGIN'))
    database = conn.execute(text("SELECT current_database()")).scalar_one()
    conn.execute(text(f'REVOKE CONNECT, TEMPORARY ON DATABASE "{database}" FROM PUBLIC'))
    if public_can_connect(conn):  # REVOKE by a role without the right only warns; never report a closed door open
        raise FupinError(
            f"无法撤销 PUBLIC 对数据库 {database} 的连接权限，请以数据库所有者身份运行\n"
            f"could not revoke CONNECT on {database} from PUBLIC: run as the database's owner"
        )
    conn.execute(text(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"'))
    conn.execute(text(f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"'))
    conn.execute(text(f'GRANT USAGE ON SCHEMA public TO "{role}"'))
    if views:
        conn.execute(text(f'GRANT SELECT ON {", ".join(views)} TO "{role}"'))
