"""The person table's monthly partitions on PostgreSQL: one per month, made before any of its rows arrive."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import Connection, text

from warehouse.schema import restricted_labor_person as rlp

PARTITION = re.compile(rf"^{rlp.name}_\d{{6}}$")


def partition_name(month_key: int) -> str:
    """restricted_labor_person_YYYYMM."""
    return f"{rlp.name}_{month_key:06d}"


def person_partitions(conn: Connection) -> dict[int, str]:
    """The partitions that exist, by month_key (PostgreSQL; empty elsewhere)."""
    if conn.dialect.name != "postgresql":
        return {}
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:parent)"
        ),
        {"parent": rlp.name},
    ).scalars()
    return {int(name.rsplit("_", 1)[1]): name for name in rows if PARTITION.match(name)}


def is_partitioned(conn: Connection) -> bool:
    """The person table is partitioned: on PostgreSQL, from the revision that made it so (fbf1b1671795) on."""
    if conn.dialect.name != "postgresql":
        return False
    kind = conn.execute(text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:t)"), {"t": rlp.name}).scalar()
    return kind == "p"


def ensure_person_partitions(conn: Connection, month_keys: Iterable[int]) -> list[str]:
    """Create the months' partitions that are missing (PostgreSQL only); returns the names created."""
    if not is_partitioned(conn):
        return []
    missing = sorted(set(month_keys) - set(person_partitions(conn)))
    for key in missing:
        conn.execute(
            text(f"CREATE TABLE IF NOT EXISTS {partition_name(key)} PARTITION OF {rlp.name} FOR VALUES IN ({key:d})")
        )
    return [partition_name(k) for k in missing]


def is_partition(name: str | None) -> bool:
    """A monthly partition's name: a table of its own to PostgreSQL, part of restricted_labor_person to the schema."""
    return bool(name and PARTITION.match(name))
