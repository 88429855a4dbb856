"""Bulk inserts inside the caller's transaction: COPY on PostgreSQL, DBAPI executemany on SQLite."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table


def bulk_insert(conn: Connection, table: Table, rows: Sequence[tuple], columns: Sequence[str]) -> None:
    """Insert many rows fast inside the caller's transaction: COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    raw = conn.connection.driver_connection
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    # Raw sqlite3 knows no timezones or booleans: apply the column types' own converters, as Core would.
    procs = [table.c[c].type.bind_processor(conn.dialect) for c in columns]
    if any(procs):
        rows = [tuple(p(v) if p else v for p, v in zip(procs, row)) for row in rows]
    marks = ", ".join("?" * len(columns))
    cur = raw.cursor()
    cur.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)
    cur.close()
