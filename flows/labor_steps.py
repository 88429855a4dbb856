"""The labor file's steps in order, the same in a run and in-process: archive, read, check, key and load, lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from core.errors import FupinError, UsageError
from core.month import Month
from core.retry import call_with_retries
from core.settings import Settings, SettingsError, checked_pii_key
from flows.runtime import api_configured, in_flow_run, load_runtime, run_artifact, run_log
from tasks.intake.archive import receive_file
from tasks.intake.provenance import cli_source
from tasks.intake.received import name_hex, name_of, param_path
from tasks.labor.key import require_key
from tasks.labor.lists import write_district_lists
from tasks.labor.load import (
    FileFacts,
    LoadResult,
    load_labor,
    record_rejection,
    record_unreadable,
    require_warehouse,
)
from tasks.labor.read import LaborFileError, read_labor
from tasks.labor.report import invalid_rows_markdown, totals_markdown
from tasks.labor.totals import attachment1_by_district
from tasks.labor.validate import validate_labor

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


STAGES = ("存档 archive", "读取 read", "校验 check", "加密入库 key & load", "区名单 district lists", "汇总 totals")


def ingest_labor_steps(
    path: str,
    month: str,
    max_invalid_ratio: float = 0.0,
    source: str | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> dict:
    """The labor file's steps in order, with or without a run; `on_stage` hears each of STAGES as it starts."""
    stage = on_stage or (lambda _: None)
    came_from = source or cli_source()
    month = Month(month)
    if not 0.0 <= max_invalid_ratio <= 1.0:
        raise FupinError(f"max_invalid_ratio must be between 0 and 1, not {max_invalid_ratio}")
    rt = load_runtime()
    log = run_log()
    key = pii_key(rt.settings)
    given = param_path(path)
    if not given.is_file():
        raise FupinError(f"no such file: {name_of(given)}")
    # Streamed into the archive once, size first; the reader then takes the archived copy, never the sender's file.
    stage(STAGES[0])
    got = receive_file(given, rt.settings.paths.archive, 0)
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
    try:
        stage(STAGES[1])
        frame = read_labor(archived, rt.config, facts.original_name)
        stage(STAGES[2])
        check = validate_labor(frame, rt.config)
    except LaborFileError as exc:
        reason = str(exc) if str(exc).startswith(facts.original_name) else f"{facts.original_name}: {exc}"
        call_with_retries(record_unreadable, rt.engine, rt.config, facts, reason, exc.rule)
        raise LaborFileError(reason, exc.rule) from None
    log.info(
        "%s: %d rows, %d invalid (%.4f%%), %d repeated numbers",
        facts.original_name,
        check.n_rows,
        check.n_invalid_rows,
        100 * check.invalid_ratio,
        len(check.duplicates),
    )
    report = invalid_rows_markdown(check, max_invalid_ratio, facts.original_name)
    if check.invalid_ratio > max_invalid_ratio:
        reason = (
            f"{check.n_invalid_rows} of {check.n_rows} rows invalid ({check.invalid_ratio:.4%} > "
            f"{max_invalid_ratio:.4%}): nothing loaded; fix the file or re-run with a higher max_invalid_ratio"
        )
        call_with_retries(record_rejection, rt.engine, rt.config, facts, check, reason)
        run_artifact(report, "labor-invalid-rows", f"rejected {month}")
        raise LaborRejected(f"{facts.original_name} rejected: {reason}")
    if check.n_invalid_rows or len(check.duplicates):
        run_artifact(report, "labor-invalid-rows", f"excluded rows {month}")
    stage(STAGES[3])
    result: LoadResult = call_with_retries(load_labor, rt.engine, rt.config, facts, check, key)
    stage(STAGES[4])
    lists = write_district_lists(rt.engine, rt.config, month, rt.settings.paths.outputs / month / "labor")
    if not lists.written:
        log.info("%s: the district lists are already up to date; nothing rewritten", month)
    stage(STAGES[5])
    by_district = attachment1_by_district(rt.engine, month)
    total = int(by_district["persons"].sum())
    run_artifact(totals_markdown(month, by_district, total), "labor-attachment1", f"Attachment 1 {month}")
    log.info(
        "%s: submission %d v%s, %d persons, %d insured; %d district lists",
        month,
        result.submission_id,
        result.version,
        result.persons,
        result.insured,
        len(lists.paths),
    )
    return {
        "submission_id": result.submission_id,
        "status": result.status,
        "version": result.version,
        "persons": result.persons,
        "insured": result.insured,
        "central_western": total,
        "excluded_rows": check.n_invalid_rows,
        "repeated": len(check.duplicates),
        "already_loaded": result.already_loaded,
        "lists": [str(p) for p in lists.paths],
        "lists_written": lists.written,
    }


def _run_id() -> str | None:
    """The current run's id, when these steps run inside one."""
    if not in_flow_run():
        return None
    from prefect.runtime import flow_run

    return str(flow_run.get_id())
