"""Scan the inbox and start one ingest-file run per new file, so each file can be retried on its own."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Engine, select

from flows.runtime import load_runtime
from tasks.intake.archive import note_first_seen
from tasks.intake.provenance import unit_folders
from tasks.intake.received import Refusal, RefusedFile, drop_folder, hash_file, name_of, path_param
from tasks.report.workbook import SUFFIXES
from warehouse.schema import dim_unit, fct_submission

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun

INGEST_DEPLOYMENT = "ingest-file/ingest-file"


@dataclass(frozen=True)
class InboxScan:
    """What a sweep found: new files to ingest, in arrival order, and files refused unread with why."""

    files: list[Path]
    refused: list[Refusal]


def _landed(path: Path) -> tuple[int, str]:
    # ctime is set by the kernel when the file lands and cannot be backdated with utime, unlike mtime.
    return os.lstat(path).st_ctime_ns, path.name


@task(name="new-inbox-files", cache_policy=NO_CACHE)
def new_inbox_files(inbox: Path, archive: Path, engine: Engine) -> InboxScan:
    """Inbox workbooks, units' own folders included, whose bytes were never accepted or rejected (same bytes twice =
    one submission).

    Only finished files count as known, so a file whose run died is picked up again (loading is idempotent).
    Each new file's first sighting is noted by the pipeline's clock; symlinks and non-files are refused unread.
    """
    with engine.connect() as conn:
        units = set(conn.execute(select(dim_unit.c.unit_code)).scalars())
        known = set(
            conn.execute(
                select(fct_submission.c.sha256).where(fct_submission.c.status.in_(("accepted", "rejected")))
            ).scalars()
        )
    files, refused = [], []
    for folder in (inbox, *unit_folders(inbox, units)):
        found, why = drop_folder(folder, SUFFIXES)
        files += found
        refused += why
    new = []
    for path in sorted(files, key=_landed):
        try:
            sha = hash_file(path)
        except (RefusedFile, OSError) as exc:
            refused.append(Refusal(path, str(exc)))
            continue
        if sha not in known:
            note_first_seen(archive, sha)
            new.append(path)
    return InboxScan(new, refused)


def deployment_available(name: str = INGEST_DEPLOYMENT) -> bool:
    """True when the Prefect API knows the ingest-file deployment (a server with deployments is running)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    try:
        with get_client(sync_client=True) as client:
            client.read_deployment_by_name(name)
        return True
    except ObjectNotFound:
        return False


@flow(name="ingest-inbox", log_prints=True)
def ingest_inbox() -> list[str]:
    """Start an ingest-file deployment run per new inbox file, or run ingest_file in-process when there is none."""
    rt = load_runtime()
    scan = new_inbox_files(rt.settings.paths.inbox, rt.settings.paths.archive, rt.engine)
    log = get_run_logger()
    for item in scan.refused:
        log.warning("%s: refused, not read / 拒收: %s", name_of(item.path), item.reason)
    started = ["Refused"] * len(scan.refused)
    use_deployment = deployment_available()
    for path in scan.files:
        started.append(_start(path, use_deployment))
        log.info("%s: %s", name_of(path), started[-1])
    return started


def _start(path: Path, use_deployment: bool) -> str:
    """One run for one file: its run id, or its final state's name in-process; whatever happens, the sweep goes on."""
    from prefect.deployments import run_deployment

    from flows.ingest_file import ingest_file

    try:
        if use_deployment:
            # Called from this sync flow, async_dispatch returns the run itself; its annotation adds an async caller's
            # coroutine.
            run = cast(
                "FlowRun",
                run_deployment(INGEST_DEPLOYMENT, parameters={"path": path_param(path)}, as_subflow=True, timeout=0),
            )
            return str(run.id)
        state = ingest_file(path_param(path), return_state=True)
        return state.name or state.type.value  # a final state always has its name
    except Exception as exc:  # noqa: BLE001 - one file's failure to start must never stop the files after it
        get_run_logger().error("%s: could not start its run: %s: %s", name_of(path), type(exc).__name__, exc)
        return "Crashed"
