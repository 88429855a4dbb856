"""Bulk inserts inside the caller's transaction: COPY on PostgreSQL, DBAPI executemany on SQLite."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Boolean, Connection, LargeBinary, Table

if TYPE_CHECKING:
    from psycopg import Copy
    from psycopg.copy import LibpqWriter
    from typing_extensions import Buffer

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_CSV = pacsv.WriteOptions(include_header=False)
# sqlite3 binds bytes and bool as they are; SQLAlchemy's per-value converters for them cost a second per 350k rows.
_SQLITE_NATIVE = (LargeBinary, Boolean)


def _driver(conn: Connection) -> Any:
    """The DB-API connection (psycopg's or sqlite3's) under `conn`, which a connection in use always has."""
    driver = conn.connection.driver_connection
    assert driver is not None, "a connection in use has its DB-API connection"
    return driver


@contextmanager
def _copy(
    conn: Connection, table: Table, columns: Sequence[str], options: str = "", writer: type[LibpqWriter] | None = None
) -> Iterator[Copy]:
    # psycopg is imported here, not with the module: a SQLite load never needs it (45 ms of every command).
    from psycopg.copy import LibpqWriter

    writer = writer or LibpqWriter
    with (
        _driver(conn).cursor() as cur,
        cur.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN {options}", writer=writer(cur)) as copy,
    ):
        yield copy


def _copy_rows(conn: Connection, table: Table, rows: Sequence[tuple], columns: Sequence[str]) -> None:
    with _copy(conn, table, columns) as copy:
        for row in rows:
            copy.write_row(row)


def _executemany(conn: Connection, table: Table, rows: Iterable[tuple], columns: Sequence[str]) -> None:
    # Raw sqlite3 knows no timezones: apply the column types' own converters, as Core would, where they matter.
    procs = [
        None if isinstance(table.c[c].type, _SQLITE_NATIVE) else table.c[c].type.bind_processor(conn.dialect)
        for c in columns
    ]
    if any(procs):
        rows = (tuple(p(v) if p else v for p, v in zip(procs, row, strict=False)) for row in rows)
    marks = ", ".join("?" * len(columns))
    cur = _driver(conn).cursor()
    cur.executemany(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows)
    cur.close()


def bytea_text(values: pd.Series) -> pa.Array:
    """Bytes as PostgreSQL's bytea text input (\\x + hex); equal-length values are converted in one numpy pass."""
    items = values.tolist()
    lengths = {None if v is None else len(v) for v in items}
    if len(lengths) != 1 or None in lengths:
        return pa.array([None if v is None else "\\x" + v.hex() for v in items], type=pa.string())
    width = len(items[0])
    raw = np.frombuffer(b"".join(items), dtype=np.uint8).reshape(len(items), width)
    out = np.empty((len(items), 2 + 2 * width), dtype=np.uint8)
    out[:, 0], out[:, 1] = ord("\\"), ord("x")
    out[:, 2::2], out[:, 3::2] = _HEX[raw >> 4], _HEX[raw & 15]
    offsets = np.arange(0, out.size + 1, out.shape[1], dtype=np.int64)
    return pa.Array.from_buffers(pa.large_string(), len(items), [None, pa.py_buffer(offsets), pa.py_buffer(out)])


class _CopySink(io.RawIOBase):
    """A write-only file whose bytes go straight into a running COPY."""

    def __init__(self, copy: Copy) -> None:
        self.copy = copy

    def writable(self) -> bool:
        return True

    def write(self, data: Buffer) -> int:
        chunk = bytes(data)
        self.copy.write(chunk)
        return len(chunk)


def _copy_frames(conn: Connection, table: Table, columns: list[str], frames: Iterable[pd.DataFrame]) -> None:
    # Arrow formats each frame as CSV in C++; a psycopg thread sends it while the next frame is being prepared,
    # so the server's parsing and index work overlaps the caller's. No per-row Python.
    from psycopg.copy import QueuedLibpqWriter

    with _copy(conn, table, columns, "(FORMAT csv)", QueuedLibpqWriter) as copy:
        sink = pa.PythonFile(_CopySink(copy), mode="w")
        for frame in frames:
            data = pa.table(
                {
                    c: bytea_text(frame[c])
                    if isinstance(table.c[c].type, LargeBinary)
                    else pa.array(frame[c], from_pandas=True)
                    for c in columns
                }
            )
            pacsv.write_csv(data, sink, _CSV)


def _executemany_frames(conn: Connection, table: Table, columns: list[str], frames: Iterable[pd.DataFrame]) -> None:
    for frame in frames:
        values = [
            [None if v is pd.NA else v for v in frame[c].tolist()] if frame[c].hasnans else frame[c].tolist()
            for c in columns
        ]
        _executemany(conn, table, zip(*values, strict=False), columns)


ROW_LOADERS: dict[str, Callable[[Connection, Table, Sequence[tuple], Sequence[str]], None]] = {
    "postgresql": _copy_rows,
    "sqlite": _executemany,
}
FRAME_LOADERS: dict[str, Callable[[Connection, Table, list[str], Iterable[pd.DataFrame]], None]] = {
    "postgresql": _copy_frames,
    "sqlite": _executemany_frames,
}


def bulk_insert(conn: Connection, table: Table, rows: Sequence[tuple], columns: Sequence[str]) -> None:
    """Insert many rows fast inside the caller's transaction: COPY on PostgreSQL, executemany on SQLite."""
    if rows:
        ROW_LOADERS[conn.dialect.name](conn, table, rows, columns)


def insert_frames(conn: Connection, table: Table, columns: list[str], frames: Iterable[pd.DataFrame]) -> None:
    """Insert a stream of frames holding `columns` (named as the table's) in one bulk load, with no row loop."""
    FRAME_LOADERS[conn.dialect.name](conn, table, columns, (f for f in frames if len(f)))
