"""Bulk loads put back exactly what they were given, on SQLite and PostgreSQL, only inside the caller's transaction."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from warehouse.bulk import bytea_text, insert_frames
from warehouse.schema import restricted_labor_person as rlp

AWKWARD = ["张三", 'say "hi", then go', "line\nbreak", "back\\slash", "", "  spaced  ", "\\N", "NULL", "逗号，和,comma"]


def people(n: int, submission_id: int = 1) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "submission_id": submission_id,
            "district_key": [1 + i % 3 for i in range(n)],
            "person_key": [hashlib.sha256(str(i).encode()).digest() for i in range(n)],
            "month_key": 202009,
            "origin_key": [7] * n,
            "is_insured": [i % 4 != 0 for i in range(n)],
            "name": pd.array([AWKWARD[i % len(AWKWARD)] for i in range(n)], dtype="string"),
            "id_masked": ["110105********1234"] * n,
            "employer": pd.array(
                [None if i % 5 == 0 else AWKWARD[-i % len(AWKWARD)] for i in range(n)], dtype="string"
            ),
            "insurance_status": ["在保" if i % 4 else "停保" for i in range(n)],
            "source_row": range(2, n + 2),
        }
    )


def read_back(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        got = conn.execute(select(*[rlp.c[c] for c in people(0).columns]).order_by(rlp.c.source_row)).all()
    return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in got]


def test_a_stream_of_frames_round_trips_bytes_booleans_nulls_and_awkward_text(engine: Engine) -> None:
    frame = people(100_003 if engine.dialect.name == "postgresql" else 2_000)
    parts = [frame.iloc[:7], frame.iloc[7:7], frame.iloc[7:1000], frame.iloc[1000:]]
    with engine.begin() as conn:
        insert_frames(conn, rlp, list(frame.columns), iter(parts))
    want = [tuple(None if v is pd.NA else v for v in row) for row in frame.itertuples(index=False, name=None)]
    assert read_back(engine) == want


def test_a_failed_load_leaves_nothing_behind(engine: Engine) -> None:
    frame = people(50)
    with pytest.raises(Exception), engine.begin() as conn:  # noqa: B017 - either driver's integrity error
        insert_frames(conn, rlp, list(frame.columns), [frame, frame.tail(1)])
    assert read_back(engine) == []


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(min_size=0, max_size=40) | st.none(), min_size=1, max_size=30))
def test_bytea_text_is_postgresql_hex_input(values: list[bytes | None]) -> None:
    got = bytea_text(pd.Series(values, dtype=object)).to_pylist()
    assert got == [None if v is None else "\\x" + v.hex() for v in values]
