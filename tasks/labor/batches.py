"""A labor file's batches into the open load transaction: origins, people keyed by HMAC (one row per identity
number across batches), exclusions, and the employment counts summed as they come."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, and_, bindparam, select

from config import Config
from contracts.identity import MASK_HEAD, MASK_TAIL, mask_ids, person_keys
from tasks.labor.grain import Kept, hmac_keys, id_matrix, pack_ids, unpack_ids
from tasks.labor.tally import LaborCheck, Tally
from warehouse.bulk import bulk_insert, insert_frames
from warehouse.schema import dim_district, dim_origin, fct_labor_invalid_row, restricted_labor_person

SQLITE_CACHE_KB = 128 << 10


def _origin_keys(conn: Connection, cfg: Config, valid: pd.DataFrame, known: dict[tuple, int]) -> np.ndarray:
    """origin_key per row; counties not yet in dim_origin (nor in `known`, filled as the batches come) are added in
    the same transaction."""
    if not known:
        known.update(_origins(conn))
    # Each row's county as one integer from the three columns' codes: a batch has a few hundred distinct counties.
    factorized = [pd.factorize(valid[c]) for c in ("origin_province", "origin_city", "origin_county")]
    sizes = tuple(len(uniques) for _, uniques in factorized)
    distinct, row_of = np.unique(np.ravel_multi_index([codes for codes, _ in factorized], sizes), return_inverse=True)
    parts = zip(factorized, np.unravel_index(distinct, sizes), strict=True)
    found = list(zip(*(np.asarray(uniques, dtype=object)[at].tolist() for (_, uniques), at in parts), strict=True))
    cw = set(cfg.central_western_provinces)
    new = [
        {
            "province": p,
            "city": c,
            "county": k,
            "is_paired": False,
            "is_central_western": p in cw,
            "report_region": cfg.province_region(p),
        }
        for p, c, k in found
        if (p, c, k) not in known
    ]
    if new:
        conn.execute(dim_origin.insert(), new)
        known.update(_origins(conn))
    return np.array([known[t] for t in found], dtype=np.int64)[row_of.ravel()]


def _origins(conn: Connection) -> dict[tuple, int]:
    rows = conn.execute(select(dim_origin.c.origin_key, dim_origin.c.province, dim_origin.c.city, dim_origin.c.county))
    return {(p, c, k): key for key, p, c, k in rows}


def _people(conn: Connection, cfg: Config, valid: pd.DataFrame, sid: int, known: dict[tuple, int]) -> pd.DataFrame:
    """The restricted person rows, without their keys yet (keyed_by_district adds them)."""
    names, keys = zip(*conn.execute(select(dim_district.c.district, dim_district.c.district_key)).all(), strict=True)
    valid = valid.reset_index(drop=True)
    # The contract admitted only these districts' names, so every row finds its own.
    at = pc.index_in(pa.array(valid["work_district"], type=pa.large_string(), from_pandas=True), pa.array(names))
    return pd.DataFrame(
        {
            "submission_id": sid,
            "district_key": np.array(keys, dtype=np.int64)[at.to_numpy(zero_copy_only=False)],
            "origin_key": _origin_keys(conn, cfg, valid, known),
            "is_insured": valid["is_insured"].astype(bool),
            "name": valid["name"],
            "id_masked": _masked(valid["id_number"]),
            "employer": valid["employer"],
            "insurance_status": valid["insurance_status"],
            "source_row": valid["source_row"],
            "id_number": valid["id_number"],
        }
    )


def _masked(ids: pd.Series) -> pd.Series:
    """mask_ids for checked numbers, in one numpy pass over their bytes: each is 18 ASCII characters, so the mask is
    the same positions of every number, and no Python string is made."""
    raw = id_matrix(ids).copy()
    raw[:, MASK_HEAD:-MASK_TAIL] = ord("*")
    offsets = np.arange(0, raw.size + 1, 18, dtype=np.int64)
    masked = pa.Array.from_buffers(pa.large_string(), len(raw), [None, pa.py_buffer(offsets), pa.py_buffer(raw)])
    return pd.Series(masked, index=ids.index, dtype=pd.StringDtype("pyarrow"))


def keyed_by_district(people: pd.DataFrame, key: bytes) -> Iterator[pd.DataFrame]:
    """Each district's people with their HMAC keys, sorted as the primary key, so every B-tree insert is an append;
    yielded one district at a time so the database indexes one while the next is keyed."""
    if "person_key" in people:  # keyed ahead, with the check, and in key order unless districts are numbered
        districts = people["district_key"].to_numpy()  # otherwise than config/ lists them
        if (np.diff(districts) < 0).any():
            people = people.take(np.lexsort((people["person_key"].to_numpy().astype("S32"), districts)))
        yield people
        return
    for _, part in people.groupby("district_key", sort=True):
        keys = hmac_keys(id_matrix(part["id_number"]), key)
        order = np.argsort(keys.astype("S32"), kind="stable")
        yield part.iloc[order].assign(person_key=keys[order])


def employment_counts(people: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Distinct insured people per origin × district (the grain of fct_labor_employment): `by` plus persons."""
    insured = people.loc[people["is_insured"], by] if "is_insured" in people else people[by]
    return insured.groupby(by, sort=True).size().rename("persons").reset_index()


_DISPLACE = restricted_labor_person.delete().where(
    and_(
        restricted_labor_person.c.submission_id == bindparam("sid"),
        restricted_labor_person.c.district_key == bindparam("dk"),
        restricted_labor_person.c.person_key == bindparam("pk"),
        restricted_labor_person.c.month_key == bindparam("mk"),  # one partition on PostgreSQL
    )
)


@contextmanager
def sqlite_cache(conn: Connection) -> Iterator[None]:
    """On SQLite, a page cache that holds the person index while later batches insert between earlier ones' keys
    (the default 2 MB made a 0.35 M load a third slower); bounded, and given back afterwards."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(before)}")


class Batches:
    """The file's batches as they are loaded: the people kept so far, the tally, the employment counts."""

    def __init__(self, conn: Connection, cfg: Config, sid: int, key: bytes, month_key: int) -> None:
        self.conn, self.cfg, self.sid, self.key, self.month_key = conn, cfg, sid, key, month_key
        self.kept, self.tally = Kept(), Tally()
        self.known: dict[tuple, int] = {}
        self.counts: list[pd.DataFrame] = []

    def load(self, check: LaborCheck) -> None:
        """One batch: its people not already kept (an insured row displaces an earlier lapsed one), its exclusions."""
        self.tally.add(check)
        people = _people(self.conn, self.cfg, check.valid, self.sid, self.known).assign(month_key=self.month_key)
        if check.person_keys is not None:
            people["person_key"] = check.person_keys
        ids = pack_ids(id_matrix(people["id_number"]))
        verdict = self.kept.admit(
            ids,
            people["source_row"].to_numpy(dtype=np.int64),
            people["district_key"].to_numpy(dtype=np.int64),
            people["is_insured"].to_numpy(dtype=bool),
        )
        if len(verdict.displaced_rows):
            numbers = unpack_ids(verdict.displaced_ids)
            keys = person_keys(numbers, self.key)
            self.conn.execute(
                _DISPLACE,
                [
                    {"sid": self.sid, "dk": int(d), "pk": k, "mk": self.month_key}
                    for d, k in zip(verdict.displaced_districts, keys, strict=True)
                ],
            )
            self.tally.add_duplicates(
                pd.DataFrame({"source_row": verdict.displaced_rows, "value_masked": mask_ids(numbers)})
            )
        if not verdict.keep.all():  # rare: a number kept from an earlier batch
            dropped = people.loc[~verdict.keep]
            self.tally.add_duplicates(
                pd.DataFrame({"source_row": dropped["source_row"].to_numpy(), "value_masked": dropped["id_masked"]})
            )
            people = people.loc[verdict.keep]
        columns = list(restricted_labor_person.c.keys())
        insert_frames(self.conn, restricted_labor_person, columns, keyed_by_district(people, self.key))
        self.counts.append(employment_counts(people, ["origin_key", "district_key"]))
        _excluded(self.conn, self.sid, check.failures)

    def employment(self) -> pd.DataFrame:
        if not self.counts:
            return pd.DataFrame(columns=["origin_key", "district_key", "persons"])
        return pd.concat(self.counts).groupby(["origin_key", "district_key"], sort=True)["persons"].sum().reset_index()


def _excluded(conn: Connection, sid: int, failures: pd.DataFrame) -> None:
    bulk_insert(
        conn,
        fct_labor_invalid_row,
        [
            (sid, int(r), c, k, v)
            for r, c, k, v in zip(
                failures["source_row"],
                failures["column_name"],
                failures["rule"],
                failures["value_masked"],
                strict=False,
            )
        ],
        ["submission_id", "source_row", "column_name", "rule", "value_masked"],
    )
