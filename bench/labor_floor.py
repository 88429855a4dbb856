"""The floor of a labor load: read -> vectorised checks -> HMAC keys -> bulk load, no framework (no pandera, no
Prefect, no project code), in one fresh process, as a user would wait for it.

Usage: python bench/labor_floor.py FILE URL [WORKERS]
URL: sqlite:///path.db or postgresql://user@host/db (an empty database; one table is created). Prints JSON.
WORKERS (PostgreSQL only, default 1): COPY the districts over this many connections at once, each its own share.
"""

from __future__ import annotations

import hashlib
import json
import resource
import sqlite3
import sys
import time
from pathlib import Path

T0 = time.perf_counter()

import numpy as np  # noqa: E402 - the imports are part of what the user waits for
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.csv as pacsv  # noqa: E402

KEY = b"bench-only-key-bench-only-key-32b"
COLUMNS = {"姓名": "name", "公民身份号码": "id_number", "户籍省": "province", "户籍市": "city", "户籍县": "county"}
COLUMNS |= {"就业区": "district", "用工单位": "employer", "参保状态": "status"}
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from config import load_config  # noqa: E402 - the declaration only (YAML): the districts, as config/ names them

CANON = {v: i + 1 for i, u in enumerate(load_config().districts) for v in (u.short_name, u.name, "北京市" + u.name)}
WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
TABLE = (
    "CREATE TABLE person (district INTEGER NOT NULL, person_key BYTEA NOT NULL, name TEXT NOT NULL, "
    "province TEXT, city TEXT, county TEXT, employer TEXT, status TEXT, source_row INTEGER, "
    "PRIMARY KEY (district, person_key))"
)


def read(path: str) -> pa.Table:
    if path.endswith(".csv"):
        with open(path, encoding="utf-8") as fh:
            skip = next(i for i, line in enumerate(fh) if "公民身份号码" in line)
        table = pacsv.read_csv(
            path,
            pacsv.ReadOptions(skip_rows=skip),
            convert_options=pacsv.ConvertOptions(
                include_columns=list(COLUMNS), column_types=dict.fromkeys(COLUMNS, pa.string())
            ),
        )
    else:
        import fastexcel

        sheet = fastexcel.read_excel(path).load_sheet(0, header_row=1, dtypes="string")
        table = pa.Table.from_batches([sheet.to_arrow()]).select(list(COLUMNS))
    return table.rename_columns([COLUMNS[c] for c in table.column_names])


def check(t: pa.Table) -> tuple[pa.Table, np.ndarray]:
    """Valid rows (18-character numbers with the right check character, a Beijing district, a status), one per
    number with its insured row first; and each kept row's number as an (n, 18) byte matrix."""
    ids = pc.utf8_upper(pc.utf8_trim_whitespace(t["id_number"]))
    ok = pc.equal(pc.utf8_length(ids), 18).to_numpy(zero_copy_only=False)
    raw = np.zeros((len(ok), 18), dtype=np.uint8)
    good = pc.filter(ids, pa.array(ok)).combine_chunks()
    raw[ok] = np.frombuffer(good.buffers()[2], dtype=np.uint8)[: 18 * len(good)].reshape(-1, 18)
    digits = raw[:, :17] - 48
    ok &= (digits <= 9).all(axis=1) & (CHECK[(digits.astype(np.int64) @ WEIGHTS) % 11] == raw[:, 17])
    district = pc.fill_null(pc.index_in(t["district"], pa.array(list(CANON))), -1).to_numpy(zero_copy_only=False)
    ok &= district >= 0
    insured = pc.equal(t["status"], "在保").to_numpy(zero_copy_only=False)
    ok &= insured | pc.equal(t["status"], "停保").to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(ok)
    rows = rows[np.lexsort((rows, ~insured[rows]))]
    _, first = np.unique(raw[rows].view("S18").ravel(), return_index=True)
    keep = np.sort(rows[first])
    codes = np.array(list(CANON.values()), dtype=np.int64)
    kept = t.take(pa.array(keep)).set_column(
        t.column_names.index("district"), "district", pa.array(codes[district[keep]])
    )
    return kept.append_column("source_row", pa.array(keep + 2)), raw[keep]


def keys(raw: np.ndarray) -> list[bytes]:
    block = KEY.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block)).copy
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block)).copy
    out = []
    for number in raw.view("S18").ravel().tolist():
        h = inner()
        h.update(number)
        o = outer()
        o.update(h.digest())
        out.append(o.digest())
    return out


def _copy(url: str, t: pa.Table, person_keys: list[bytes], cols: list[str]) -> None:
    import psycopg

    with psycopg.connect(url) as conn, conn.cursor() as cur:
        hexed = pa.array(["\\x" + k.hex() for k in person_keys])
        data = t.select(cols).append_column("person_key", hexed)
        sink = pa.BufferOutputStream()
        pacsv.write_csv(data, sink, pacsv.WriteOptions(include_header=False))
        with cur.copy(f"COPY person ({', '.join([*cols, 'person_key'])}) FROM STDIN (FORMAT csv)") as copy:
            copy.write(sink.getvalue().to_pybytes())


def load(url: str, t: pa.Table, person_keys: list[bytes], workers: int = 1) -> None:
    cols = ["district", "name", "province", "city", "county", "employer", "status", "source_row"]
    order = np.lexsort((np.array(person_keys, dtype="S32"), t["district"].to_numpy(zero_copy_only=False)))
    t = t.take(pa.array(order))
    person_keys = [person_keys[i] for i in order]
    if url.startswith("sqlite"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        db.execute(TABLE.replace("BYTEA", "BLOB"))
        values = [t[c].to_pylist() for c in cols]
        db.executemany(
            "INSERT INTO person (district, name, province, city, county, employer, status, source_row, person_key) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            zip(*values, person_keys, strict=True),
        )
        db.commit()
        return
    from concurrent.futures import ThreadPoolExecutor

    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(TABLE)
    district = t["district"].to_numpy()
    share = district % workers  # whole districts per connection: each one's index range is its own
    with ThreadPoolExecutor(workers) as pool:
        done = [
            pool.submit(
                _copy,
                url,
                t.filter(pa.array(share == w)),
                [k for k, s in zip(person_keys, share, strict=True) if s == w],
                cols,
            )
            for w in range(workers)
        ]
        for future in done:
            future.result()


def main() -> None:
    path, url = sys.argv[1], sys.argv[2]
    steps = {"imports": time.perf_counter() - T0}
    t = read(path)
    steps["read"] = time.perf_counter() - T0 - sum(steps.values())
    kept, raw = check(t)
    steps["check"] = time.perf_counter() - T0 - sum(steps.values())
    person_keys = keys(raw)
    steps["keys"] = time.perf_counter() - T0 - sum(steps.values())
    load(url, kept, person_keys, int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    steps["load"] = time.perf_counter() - T0 - sum(steps.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"persons": kept.num_rows, "steps": steps, "peak_rss_mb": peak}))


if __name__ == "__main__":
    main()
