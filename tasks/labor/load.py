"""Load one labor file into the warehouse in ONE transaction: submission, origins, people, aggregates, exclusions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import SupportsInt, cast

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, and_, bindparam, func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from config import Config
from contracts.identity import mask_ids, person_keys
from core.crashpoint import pause_at
from core.errors import FupinError, unreadable_warehouse
from core.month import month_key
from tasks.labor.errors import redacted
from tasks.labor.grain import Kept, hmac_keys, id_matrix, pack_ids, unpack_ids
from tasks.labor.validate import LaborCheck, Tally
from warehouse.bulk import bulk_insert, insert_frames
from warehouse.schema import (
    dim_district,
    dim_origin,
    dim_unit,
    fct_labor_employment,
    fct_labor_invalid_row,
    fct_submission,
    fct_validation_issue,
    restricted_labor_person,
)
from warehouse.seed import ensure_months
from warehouse.versions import lock_unit, next_version

KIND = "labor"
ISSUE_COLUMNS = [
    "submission_id",
    "severity",
    "rule",
    "sheet",
    "cell",
    "row_no",
    "value",
    "message_zh",
    "message_en",
    "is_open",
]
SQLITE_CACHE_KB = 128 << 10
ISSUE_CAP = 1000  # a wholly wrong file would otherwise write one issue per row; the artifact lists them all


@dataclass(frozen=True)
class FileFacts:
    """What is known about the received file before it is read."""

    sha256: str
    original_name: str
    archive_path: str
    received_at: dt.datetime
    month: str
    flow_run_id: str | None = None
    source: str | None = None  # cli:<OS user>, inbox:<path under the inbox> or web:<account>
    name_hex: str | None = None  # the name's original bytes, as the sender's system wrote them


@dataclass(frozen=True)
class LoadResult:
    submission_id: int
    status: str
    version: int | None
    persons: int
    insured: int
    already_loaded: bool = False
    check: Tally | None = None  # the file's check, when it was read (not for a file already loaded)


class TooManyInvalid(FupinError):
    """More invalid rows than the caller allows: the transaction is rolled back, the tally says why."""

    def __init__(self, tally: Tally, max_ratio: float) -> None:
        super().__init__(
            f"{tally.n_invalid_rows} of {tally.n_rows} rows invalid ({tally.invalid_ratio:.4%} > {max_ratio:.4%})"
        )
        self.tally = tally


def require_warehouse(engine: Engine, cfg: Config) -> None:
    """Fail in one line, before any work, when the warehouse is missing, unreachable or not initialised."""
    try:
        with engine.connect() as conn:
            found = conn.execute(
                select(dim_unit.c.unit_key).where(dim_unit.c.unit_code == cfg.labor.sender_unit)
            ).first()
    except DBAPIError as exc:
        raise unreadable_warehouse(exc) from exc
    if found is None:
        raise FupinError(f"the HR bureau ({cfg.labor.sender_unit}) is not in dim_unit: run `fupin init`")


def _submission(conn: Connection, cfg: Config, facts: FileFacts) -> tuple[int | None, str | None, dict]:
    """(existing id, its status, the column values this file's submission row should have), under the HR bureau's
    row lock: a second labor write waits here for the first to commit, then sees its rows."""
    unit_key = conn.execute(
        select(dim_unit.c.unit_key).where(dim_unit.c.unit_code == cfg.labor.sender_unit)
    ).scalar_one()
    lock_unit(conn, unit_key)
    ensure_months(conn, cfg, [facts.month])
    values = {
        "kind": KIND,
        "sha256": facts.sha256,
        "original_name": facts.original_name[:255],
        "original_name_hex": facts.name_hex,
        "archive_path": facts.archive_path,
        "received_at": facts.received_at,
        "unit_key": unit_key,
        "month_key": month_key(facts.month),
        "is_late": cfg.is_late(facts.month, facts.received_at),
        "flow_run_id": facts.flow_run_id,
        "source": facts.source,
    }
    row = conn.execute(
        select(fct_submission.c.submission_id, fct_submission.c.status).where(fct_submission.c.sha256 == facts.sha256)
    ).first()
    return (row[0], row[1], values) if row else (None, None, values)


def _save_submission(conn: Connection, existing: int | None, values: dict) -> int:
    if existing is None:
        insert = fct_submission.insert().values(**values).returning(fct_submission.c.submission_id)
        return conn.execute(insert).scalar_one()
    conn.execute(update(fct_submission).where(fct_submission.c.submission_id == existing).values(**values))
    conn.execute(fct_validation_issue.delete().where(fct_validation_issue.c.submission_id == existing))
    return existing


def _issues(conn: Connection, sid: int, check: LaborCheck | Tally, severity_errors: str) -> None:
    rows = [
        (
            sid,
            severity_errors,
            r.rule,
            None,
            str(r.column_name)[:16],
            int(cast("SupportsInt", r.source_row)),  # an integer column; the stubs type a row's fields as any scalar
            r.value_masked,
            r.message_zh,
            r.message_en,
            True,
        )
        for r in check.failures.head(ISSUE_CAP).itertuples()
    ]
    rows += [
        (
            sid,
            "warning",
            "duplicate_id",
            None,
            "公民身份号码",
            int(cast("SupportsInt", r.source_row)),  # as above
            r.value_masked,
            f"第{r.source_row}行 公民身份号码重复，只计一次（{r.value_masked}）",
            f"row {r.source_row}: repeated identity number, counted once ({r.value_masked})",
            True,
        )
        for r in check.duplicates.head(ISSUE_CAP).itertuples()
    ]
    bulk_insert(conn, fct_validation_issue, rows, ISSUE_COLUMNS)


def _reject(
    conn: Connection, cfg: Config, facts: FileFacts, reason: str, n_errors: int, n_warnings: int, n_rows: int
) -> int | None:
    """Mark the file's submission rejected and return its id; None when an accepted twin must stay as it is."""
    existing, status, values = _submission(conn, cfg, facts)
    if status == "accepted":
        return None
    return _save_submission(
        conn,
        existing,
        {
            **values,
            "status": "rejected",
            "version": None,
            "is_current": False,
            "n_errors": n_errors,
            "n_warnings": n_warnings,
            "n_rows": n_rows,
            "message": reason,
        },
    )


def record_rejection(engine: Engine, cfg: Config, facts: FileFacts, check: LaborCheck | Tally, reason: str) -> None:
    """Record the file as rejected (no facts) with its located errors; an accepted twin is left untouched."""
    with engine.begin() as conn:
        sid = _reject(conn, cfg, facts, reason, check.n_invalid_rows, len(check.duplicates), check.n_rows)
        if sid is not None:
            _issues(conn, sid, check, "error")


def record_unreadable(engine: Engine, cfg: Config, facts: FileFacts, reason: str, rule: str) -> None:
    """Record a file that could not be read at all as rejected, its reason the one error; an accepted twin stays."""
    with engine.begin() as conn:
        sid = _reject(conn, cfg, facts, reason, n_errors=1, n_warnings=0, n_rows=0)
        if sid is not None:
            # The reason is already bilingual ("中文 / English"), as every refusal of a file is.
            bulk_insert(
                conn,
                fct_validation_issue,
                [(sid, "error", rule[:40], None, None, None, None, reason, reason, True)],
                ISSUE_COLUMNS,
            )


def _origin_keys(conn: Connection, cfg: Config, valid: pd.DataFrame, known: dict[tuple, int]) -> pd.Series:
    """origin_key per row; counties not yet in dim_origin (nor in `known`, filled as the batches come) are added in
    the same transaction."""
    cols = ["origin_province", "origin_city", "origin_county"]
    if not known:
        known.update(_origins(conn))
    found = valid[cols].drop_duplicates()
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
        for p, c, k in found.itertuples(index=False)
        if (p, c, k) not in known
    ]
    if new:
        conn.execute(dim_origin.insert(), new)
        known.update(_origins(conn))
    index = pd.MultiIndex.from_tuples(list(known), names=cols)
    lookup = pd.Series(list(known.values()), index=index)
    return pd.Series(lookup.reindex(pd.MultiIndex.from_frame(valid[cols])).to_numpy(), index=valid.index)


def _origins(conn: Connection) -> dict[tuple, int]:
    rows = conn.execute(select(dim_origin.c.origin_key, dim_origin.c.province, dim_origin.c.city, dim_origin.c.county))
    return {(p, c, k): key for key, p, c, k in rows}


def _people(conn: Connection, cfg: Config, valid: pd.DataFrame, sid: int, known: dict[tuple, int]) -> pd.DataFrame:
    """The restricted person rows, without their keys yet (keyed_by_district adds them)."""
    districts = dict(conn.execute(select(dim_district.c.district, dim_district.c.district_key)).all())
    valid = valid.reset_index(drop=True)
    return pd.DataFrame(
        {
            "submission_id": sid,
            "district_key": valid["work_district"].map(districts).astype(np.int64),
            "origin_key": _origin_keys(conn, cfg, valid, known).astype(np.int64),
            "is_insured": valid["is_insured"].astype(bool),
            "name": valid["name"],
            "id_masked": mask_ids(valid["id_number"]),
            "employer": valid["employer"],
            "insurance_status": valid["insurance_status"],
            "source_row": valid["source_row"],
            "id_number": valid["id_number"],
        }
    )


def keyed_by_district(people: pd.DataFrame, key: bytes) -> Iterator[pd.DataFrame]:
    """Each district's people with their HMAC keys, sorted as the primary key, so every B-tree insert is an append;
    yielded one district at a time so the database indexes one while the next is keyed."""
    for _, part in people.groupby("district_key", sort=True):
        keys = hmac_keys(id_matrix(part["id_number"]), key)
        order = np.argsort(keys.astype("S32"), kind="stable")
        yield part.iloc[order].assign(person_key=keys[order])


def employment_counts(people: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Distinct insured people per origin × district (the grain of fct_labor_employment): `by` plus persons."""
    insured = people.loc[people["is_insured"]] if "is_insured" in people else people
    return insured.groupby(by, sort=True).size().rename("persons").reset_index()


_DISPLACE = restricted_labor_person.delete().where(
    and_(
        restricted_labor_person.c.submission_id == bindparam("sid"),
        restricted_labor_person.c.district_key == bindparam("dk"),
        restricted_labor_person.c.person_key == bindparam("pk"),
    )
)


@contextmanager
def _sqlite_cache(conn: Connection) -> Iterator[None]:
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


class _Batches:
    """The file's batches as they are loaded: the people kept so far, the tally, the employment counts."""

    def __init__(self, conn: Connection, cfg: Config, sid: int, key: bytes) -> None:
        self.conn, self.cfg, self.sid, self.key = conn, cfg, sid, key
        self.kept, self.tally = Kept(), Tally()
        self.known: dict[tuple, int] = {}
        self.counts: list[pd.DataFrame] = []

    def load(self, check: LaborCheck) -> None:
        """One batch: its people not already kept (an insured row displaces an earlier lapsed one), its exclusions."""
        self.tally.add(check)
        people = _people(self.conn, self.cfg, check.valid, self.sid, self.known)
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
                    {"sid": self.sid, "dk": int(d), "pk": k}
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


def _load(
    conn: Connection,
    cfg: Config,
    facts: FileFacts,
    checks: Callable[[], Iterable[LaborCheck]],
    key: bytes,
    max_invalid_ratio: float,
) -> LoadResult:
    existing, status, values = _submission(conn, cfg, facts)
    if status == "accepted":
        assert existing is not None  # an accepted status is read from the submission's own row
        persons = conn.execute(
            select(func.count())
            .select_from(restricted_labor_person)
            .where(restricted_labor_person.c.submission_id == existing)
        ).scalar_one()
        return LoadResult(existing, "duplicate", None, persons, 0, already_loaded=True)
    sid = _save_submission(conn, existing, {**values, "status": "received"})
    numbered = next_version(conn, KIND, values["unit_key"], values["month_key"], facts.received_at)
    pause_at("load")
    batches = _Batches(conn, cfg, sid, key)
    with _sqlite_cache(conn):
        for check in checks():
            batches.load(check)
    tally = batches.tally
    if tally.invalid_ratio > max_invalid_ratio:  # decided on the whole file: everything above rolls back
        raise TooManyInvalid(tally, max_invalid_ratio)
    mk = values["month_key"]
    cells = [(sid, int(o), int(d), mk, int(n)) for o, d, n in batches.employment().itertuples(index=False)]
    bulk_insert(
        conn, fct_labor_employment, cells, ["submission_id", "origin_key", "district_key", "month_key", "persons"]
    )
    _issues(conn, sid, tally, "warning")
    persons, insured = len(batches.kept), batches.kept.n_insured
    conn.execute(
        update(fct_submission)
        .where(fct_submission.c.submission_id == sid)
        .values(
            status="accepted",
            version=numbered.number,
            is_current=numbered.is_current,
            n_errors=0,
            n_warnings=len(tally.duplicates) + tally.n_invalid_rows,
            n_rows=tally.n_rows,
            message=f"{persons} persons, {insured} insured, {tally.n_invalid_rows} rows excluded",
        )
    )
    return LoadResult(sid, "accepted", numbered.number, persons, insured, check=tally)


def load_labor_batches(
    engine: Engine,
    cfg: Config,
    facts: FileFacts,
    checks: Callable[[], Iterable[LaborCheck]],
    key: bytes,
    max_invalid_ratio: float = 0.0,
) -> LoadResult:
    """Accept the file batch by batch in one transaction: people (restricted, keyed by HMAC, one per identity number
    across batches), the month × origin × district fact, exclusions. `checks` gives the batches afresh on each call
    (a retry reads the file again); over `max_invalid_ratio` everything rolls back (TooManyInvalid). A database error
    is re-raised redacted (drivers quote the rows they refuse)."""
    with redacted("load"):
        try:
            with engine.begin() as conn:
                return _load(conn, cfg, facts, checks, key, max_invalid_ratio)
        except IntegrityError:
            # A concurrent write got past the lock (the same bytes, or a current version): decide again, now seeing it.
            with engine.begin() as conn:
                return _load(conn, cfg, facts, checks, key, max_invalid_ratio)


def load_labor(engine: Engine, cfg: Config, facts: FileFacts, check: LaborCheck, key: bytes) -> LoadResult:
    """Accept a file already checked whole (one batch): see load_labor_batches."""
    return load_labor_batches(engine, cfg, facts, lambda: [check], key, max_invalid_ratio=1.0)
