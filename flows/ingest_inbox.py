"""Scan the inbox and start one ingest-file run per new file, so each file can be retried on its own."""
from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Engine, select

from fupin.runtime import load_runtime
from tasks.archive import sha256_of
from tasks.parse_workbook import SUFFIXES
from tasks.provenance import inbox_entries
from warehouse.schema import dim_unit, fct_submission

INGEST_DEPLOYMENT = "ingest-file/ingest-file"


@task(name="new-inbox-files", cache_policy=NO_CACHE)
def new_inbox_files(inbox: Path, engine: Engine) -> list[Path]:
    """Inbox workbooks, units' own folders included, whose bytes were never accepted or rejected (same bytes twice =
    one submission).

    Only finished files count as known, so a file whose run died is picked up again (loading is idempotent).
    """
    with engine.connect() as conn:
        units = set(conn.execute(select(dim_unit.c.unit_code)).scalars())
    files = sorted((p for p in inbox_entries(inbox, units) if p.is_file() and p.suffix.lower() in SUFFIXES
                    and not p.name.startswith((".", "~$"))), key=lambda p: (p.stat().st_mtime, p.name))
    with engine.connect() as conn:
        known = set(conn.execute(select(fct_submission.c.sha256)
                                 .where(fct_submission.c.status.in_(("accepted", "rejected")))).scalars())
    return [p for p in files if sha256_of(p.read_bytes()) not in known]


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
    from prefect.deployments import run_deployment

    from flows.ingest_file import ingest_file

    rt = load_runtime()
    files = new_inbox_files(rt.settings.paths.inbox, rt.engine)
    started = []
    use_deployment = deployment_available()
    for path in files:
        if use_deployment:
            run = run_deployment(INGEST_DEPLOYMENT, parameters={"path": str(path)}, as_subflow=True, timeout=0)
            started.append(str(run.id))
        else:
            state = ingest_file(str(path), return_state=True)
            started.append(state.name)
        print(f"{path.name}: {started[-1]}")
    return started
