"""One file's run: archive, parse, validate, load. A rejection ends the run Failed (named Rejected) with a one-line
bilingual message and its artifact, never a traceback; a crash is tried again a bounded number of times. The unit's
receipt or rejection report goes out at the end of the run."""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.runtime import flow_run

from flows.intake import attempt_one, rejection_markdown, send_receipts
from flows.runtime import in_flow_run, load_runtime, run_artifact
from tasks.intake.outcome import FileOutcome
from tasks.intake.received import name_of, param_path
from tasks.runs.show import earlier_failure, show_run
from tasks.runs.states import final_state, quiet_rejections


def run_name() -> str:
    """The run's name until the parse knows unit and month: the file's name as text, whatever bytes it had."""
    return f"ingest-file {name_of(param_path(flow_run.parameters['path']))}"


def _announce(outcome: FileOutcome) -> None:
    """Name and tag the run after what the file turned out to be; attach its rejection, or its success on retry."""
    run_id = str(flow_run.id)
    earlier = earlier_failure(run_id)
    show_run(run_id, outcome.run_name, outcome.tags)
    if outcome.status == "rejected":
        run_artifact(
            rejection_markdown(outcome.name, outcome.errors),
            f"rejection-{(outcome.sha256 or '')[:16]}",
            f"rejection report for {outcome.name}",
        )
    elif earlier is not None and outcome.status in ("accepted", "duplicate"):
        run_artifact(
            f"# 重试成功 / Succeeded on retry\n\n{outcome.message}\n\n"
            f"此前的结果 / the earlier attempt: **{earlier}** — 其退回记录保留在数据仓库中 / its rows stay in the "
            "warehouse.",
            f"retry-{(outcome.sha256 or '')[:16]}",
            f"{outcome.name} succeeded on retry",
        )


@flow(name="ingest-file", flow_run_name=run_name, retries=0, log_prints=True, persist_result=False)
def ingest_file(path: str, source: str | None = None) -> Any:
    """Ingest one report workbook. `source` says where it came from (cli:<user>, web:<account>); a file in the
    inbox is always inbox:<its path there>. Outside a Prefect run, returns the file's summary."""
    quiet_rejections()
    rt = load_runtime()
    run_id = str(flow_run.id) if in_flow_run() else None
    outcome = attempt_one(rt, param_path(path), source, raise_last=True, wait_seconds=600.0, run_id=run_id)
    send_receipts(rt, [outcome])
    if not in_flow_run():
        return outcome.summary()
    _announce(outcome)
    print(outcome.message)
    if outcome.status == "busy":
        return final_state("crashed", outcome.message)
    return final_state(outcome.status, outcome.message, outcome.summary())
