"""Load one labor file into the warehouse in ONE transaction: submission, origins, people, aggregates, exclusions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import SupportsInt, cast

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from config import Config
from core.crashpoint import pause_at
from core.errors import FupinError, unreadable_warehouse
from core.month import month_key
from tasks.labor.batches import Batches, sqlite_cache
from tasks.labor.errors import redacted
from tasks.labor.retention import refresh_retention
from tasks.labor.tally import LaborCheck, Tally
from warehouse.bulk import bulk_insert
from warehouse.schema import (
    dim_unit,
    fct_labor_employment,
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
    batches = Batches(conn, cfg, sid, key, values["month_key"])
    with sqlite_cache(conn):
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
    refresh_retention(conn, facts.month, (sid, batches.kept.insured_by_district()))
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
