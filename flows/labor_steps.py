"""The labor file's steps in order, the same in a run and in-process: archive; read, check, key and load in batches."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

from config import Config
from core.errors import FupinError, UsageError
from core.month import Month
from core.retry import call_with_retries
from core.settings import Settings, SettingsError, checked_pii_key
from flows.runtime import Runtime, api_configured, in_flow_run, load_runtime, run_artifact, run_log
from tasks.intake.archive import receive_file
from tasks.intake.provenance import cli_source
from tasks.intake.received import name_hex, name_of, param_path
from tasks.labor.ahead import ReadAhead
from tasks.labor.key import require_key
from tasks.labor.lists import DistrictLists, month_submissions, write_district_lists
from tasks.labor.load import (
    FileFacts,
    LoadResult,
    TooManyInvalid,
    load_labor_batches,
    record_rejection,
    record_unreadable,
    require_warehouse,
)
from tasks.labor.read import BATCH_ROWS, LaborFileError, iter_labor
from tasks.labor.report import invalid_rows_markdown, totals_markdown
from tasks.labor.tally import LaborCheck, Tally
from tasks.labor.totals import attachment1_by_district

SECRET_BLOCK = "fupin-pii-key"


class LaborRejected(FupinError):
    """Too many invalid rows: nothing was loaded."""


def pii_key(settings: Settings) -> bytes:
    """FUPIN_PII_KEY or FUPIN_PII_KEY_FILE, else the Prefect Secret block 'fupin-pii-key'; at least 32 bytes; never
    logged. A missing or unusable key is a usage error (exit 2), said in one line."""
    try:
        if settings.pii_key is not None or settings.pii_key_file is not None or not api_configured():
            return settings.require_pii_key()
        return checked_pii_key(_secret_block(), f"the Prefect Secret block '{SECRET_BLOCK}'")
    except SettingsError as exc:
        raise UsageError(str(exc)) from None


def _secret_block() -> bytes:
    from prefect.blocks.system import Secret

    try:
        # Called from this sync flow, async_dispatch returns the block itself; its annotation adds an async caller's
        # coroutine.
        value = cast(Secret, Secret.load(SECRET_BLOCK)).get()
    except (ValueError, RuntimeError):
        value = None
    if not value:
        raise SettingsError(
            f"no PII key: set FUPIN_PII_KEY, or FUPIN_PII_KEY_FILE to a key file (or a Prefect Secret "
            f"block '{SECRET_BLOCK}') before ingesting labor records / 未设置身份证号加密密钥"
        )
    return str(value).encode()


STAGES = ("存档 archive", "读取·校验·入库 read, check & load", "汇总 totals")


def ingest_labor_steps(
    path: str,
    month: str,
    max_invalid_ratio: float = 0.0,
    source: str | None = None,
    on_stage: Callable[[str], None] | None = None,
    batch_rows: int = BATCH_ROWS,
    rt: Runtime | None = None,
    ahead: ReadAhead | None = None,
) -> dict:
    """The labor file's steps in order, with or without a run; `on_stage` hears each of STAGES as it starts. The file
    is read, checked, keyed and loaded `batch_rows` rows at a time; the district lists are written later, on demand
    (`fupin labor-lists`, the monthly close, a district's download). `rt`: the caller's runtime, if it has one; `ahead`:
    the child process reading, checking and keying the given file as the caller already archived it (in the child's
    batch sizes)."""
    stage = on_stage or (lambda _: None)
    came_from = source or cli_source()
    month = Month(month)
    if not 0.0 <= max_invalid_ratio <= 1.0:
        raise FupinError(f"max_invalid_ratio must be between 0 and 1, not {max_invalid_ratio}")
    rt = rt or load_runtime()
    log = run_log()
    key = pii_key(rt.settings)
    given = param_path(path)
    if not given.is_file():
        raise FupinError(f"no such file: {name_of(given)}")
    # Streamed into the archive once, size first; the reader then takes the archived copy, never the sender's file.
    stage(STAGES[0])
    got = (ahead and ahead.received) or receive_file(given, rt.settings.paths.archive, 0)
    archived = got.path
    require_warehouse(rt.engine, rt.config)
    require_key(rt.engine, key)
    facts = FileFacts(
        got.sha256,
        name_of(given),
        str(archived.relative_to(rt.settings.paths.home)),
        got.first_seen,
        month,
        _run_id(),
        came_from,
        name_hex(given),
    )

    child = ahead if ahead is not None and ahead.received is got else None
    checks = _checks(child, archived, rt.config, facts.original_name, batch_rows)

    stage(STAGES[1])
    try:
        result: LoadResult = call_with_retries(
            load_labor_batches, rt.engine, rt.config, facts, checks, key, max_invalid_ratio
        )
    except LaborFileError as exc:
        reason = str(exc) if str(exc).startswith(facts.original_name) else f"{facts.original_name}: {exc}"
        call_with_retries(record_unreadable, rt.engine, rt.config, facts, reason, exc.rule)
        raise LaborFileError(reason, exc.rule) from None
    except TooManyInvalid as exc:
        _log_check(log, facts.original_name, exc.tally)
        reason = f"{exc}: nothing loaded; fix the file or re-run with a higher max_invalid_ratio"
        call_with_retries(record_rejection, rt.engine, rt.config, facts, exc.tally, reason)
        report = invalid_rows_markdown(exc.tally, max_invalid_ratio, facts.original_name)
        run_artifact(report, "labor-invalid-rows", f"rejected {month}")
        raise LaborRejected(f"{facts.original_name} rejected: {reason}") from None
    tally = result.check
    if tally is not None:
        _log_check(log, facts.original_name, tally)
        if tally.n_invalid_rows or len(tally.duplicates):
            report = invalid_rows_markdown(tally, max_invalid_ratio, facts.original_name)
            run_artifact(report, "labor-invalid-rows", f"excluded rows {month}")
    stage(STAGES[2])
    by_district = attachment1_by_district(rt.engine, month)
    total = int(by_district["persons"].sum())
    run_artifact(totals_markdown(month, by_district, total), "labor-attachment1", f"Attachment 1 {month}")
    log.info(
        "%s: submission %d v%s, %d persons, %d insured",
        month,
        result.submission_id,
        result.version,
        result.persons,
        result.insured,
    )
    return {
        "submission_id": result.submission_id,
        "status": result.status,
        "version": result.version,
        "persons": result.persons,
        "insured": result.insured,
        "central_western": total,
        "excluded_rows": tally.n_invalid_rows if tally else None,
        "repeated": len(tally.duplicates) if tally else None,
        "already_loaded": result.already_loaded,
    }


def _checks(
    ahead: ReadAhead | None, archived: Path, cfg: Config, name: str, batch_rows: int
) -> Callable[[], Iterator[LaborCheck]]:
    """The file's checked batches, afresh on each call: the child's, once; then read and checked here (a retry, or
    the rest of the file when the child stopped early), in the child's batch sizes."""

    def checks() -> Iterator[LaborCheck]:
        nonlocal ahead
        stream, ahead, taken = ahead, None, 0
        sizes: tuple[int, int | None] = (batch_rows, None)
        if stream is not None:
            sizes = (stream.batch_rows, stream.first_rows)
            for check in stream.checks():
                taken += 1
                yield check
            if stream.complete:
                return
        from tasks.labor.validate import validate_labor  # pandera: imported only where batches are checked here

        for i, frame in enumerate(iter_labor(archived, cfg, name, *sizes)):
            if i >= taken:  # read on from the first batch the child did not give
                yield validate_labor(frame, cfg)

    return checks


def _log_check(log: logging.Logger | logging.LoggerAdapter, name: str, tally: Tally) -> None:
    log.info(
        "%s: %d rows, %d invalid (%.4f%%), %d repeated numbers",
        name,
        tally.n_rows,
        tally.n_invalid_rows,
        100 * tally.invalid_ratio,
        len(tally.duplicates),
    )


def _run_id() -> str | None:
    """The current run's id, when these steps run inside one."""
    if not in_flow_run():
        return None
    from prefect.runtime import flow_run

    return str(flow_run.get_id())


def write_labor_lists(
    rt: Runtime,
    month: str,
    district: str | None = None,
    on_district: Callable[[str], None] | None = None,
) -> DistrictLists | None:
    """The month's district lists (or one district's), each written only when missing or stale; None when no labor
    file of the month was accepted. `on_district` hears each district as it is done."""
    month = Month(month)
    names = [u.name for u in rt.config.districts] if district is None else [district]
    if month_submissions(rt.engine, month)[0] is None:
        return None
    out = rt.settings.paths.outputs / month / "labor"
    paths: list[Path] = []
    written: list[str] = []
    for name in names:
        done = write_district_lists(rt.engine, rt.config, month, out, district=name)
        paths += done.paths
        written += done.districts_written
        if on_district:
            on_district(name)
    return DistrictLists(paths, bool(written), tuple(written))
