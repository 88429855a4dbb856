"""One flow run per received report file: archive, parse, validate, load; a rejection fails the run visibly."""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from contracts.messages import Issue
from contracts.report import check_report
from core.clock import office_date
from core.errors import FupinError
from flows.runtime import load_runtime
from tasks.intake.archive import quarantine_file, receive_file
from tasks.intake.provenance import cli_source, folder_unit, inbox_source
from tasks.intake.received import name_hex, name_of, param_path
from tasks.intake.safety import REPORT_LIMITS
from tasks.report.load import Receipt, load_report
from tasks.report.parse import parse_report, refused_for_size
from tasks.report.warnings import report_warnings


class ReportRejected(FupinError):
    """A report broke the rules; its problems are in quarantine and in the run's artifact."""


def run_name() -> str:
    """The run's name from the file's name as text, whatever bytes the sender's system wrote."""
    return f"ingest-file {name_of(param_path(flow_run.parameters['path']))}"


def rejection_markdown(name: str, issues: list[Issue]) -> str:
    """The rejection as a markdown table, for the run's artifact."""

    def esc(x: object) -> str:
        return "" if x is None else str(x).replace("|", "\\|").replace("\n", " ")

    lines = [
        f"# 退回 / Rejected: {esc(name)}",
        "",
        f"{len(issues)} problem(s)",
        "",
        "| sheet | cell | 序号 | 指标 | column | value | 问题 | problem |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {esc(i.sheet)} | {esc(i.cell)} | {esc(i.row_no)} | {esc(i.indicator)} | {esc(i.region)} | "
        f"{esc(i.value)} | {esc(i.message_zh)} | {esc(i.message_en)} |"
        for i in issues
    ]
    return "\n".join(lines)


@flow(name="ingest-file", flow_run_name=run_name, retries=0, log_prints=True)
def ingest_file(path: str, source: str | None = None) -> dict:
    """Ingest one report workbook; fails (no automatic retry) when the file is rejected. `source` says where it came
    from (cli:<user>, web:<account>); a file in the inbox is always inbox:<its path there>."""
    rt = load_runtime()
    src = param_path(path)
    name = name_of(src)
    inbox = rt.settings.paths.inbox
    got = receive_file(src, rt.settings.paths.archive, REPORT_LIMITS.max_file_bytes)
    received_at = got.first_seen
    receipt = Receipt(
        got.sha256,
        name,
        str(got.path.relative_to(rt.settings.home)),
        received_at,
        str(flow_run.id) if flow_run.id else None,
        inbox_source(src, inbox) or source or cli_source(),
        name_hex(src),
    )
    parsed = parse_report(got.data, name, rt.config) if got.data is not None else refused_for_size(name, got.size)
    errors = check_report(
        parsed, rt.config, office_date(received_at, rt.config.calendar.timezone), folder_unit(src, inbox)
    )
    warnings = [] if errors else report_warnings(rt.engine, parsed, rt.config)
    result = load_report(rt.engine, parsed, rt.config, receipt, errors, warnings)
    summary = {
        "file": name,
        "name_hex": name_hex(src),
        "sha256": receipt.sha256,
        "status": result.status,
        "submission_id": result.submission_id,
        "version": result.version,
        "superseded": result.superseded,
        "unit": parsed.unit.code if parsed.unit else None,
        "month": parsed.month,
        "n_errors": result.n_errors,
        "n_warnings": result.n_warnings,
    }
    if errors:
        folder = quarantine_file(
            got.data,
            name,
            rt.settings.paths.quarantine,
            errors,
            {
                "received_at": received_at.isoformat(),
                "unit": summary["unit"],
                "month": parsed.month,
                "submission_id": result.submission_id,
                "name_hex": summary["name_hex"],
            },
            archived=got.path,
        )
        create_markdown_artifact(
            markdown=rejection_markdown(name, errors),
            key=f"rejection-{receipt.sha256[:16]}",
            description=f"rejection report for {name}",
        )
        raise ReportRejected(
            f"{name} rejected with {len(errors)} problem(s); first: {errors[0].line('en')}; report in {folder}"
        )
    print(f"{name}: {result.status} (submission {result.submission_id}, version {result.version})")
    return summary
