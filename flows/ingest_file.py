"""One flow run per received report file: archive, parse, validate, load; a rejection fails the run visibly."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from contracts.messages import Issue
from contracts.report import check_report
from fupin.errors import FupinError
from fupin.runtime import load_runtime
from tasks.archive import archive_file, quarantine_file, sha256_of
from tasks.load_report import Receipt, load_report
from tasks.parse_report import parse_report
from tasks.provenance import cli_source, folder_unit, inbox_source
from tasks.warnings import report_warnings


class ReportRejected(FupinError):
    """A report broke the rules; its problems are in quarantine and in the run's artifact."""


@task(name="read-file", cache_policy=NO_CACHE)
def read_file(path: Path) -> tuple[bytes, dt.datetime]:
    """The file's bytes and when it arrived (its modification time), read fresh on every run and retry."""
    return path.read_bytes(), dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)


def rejection_markdown(name: str, issues: list[Issue]) -> str:
    """The rejection as a markdown table, for the run's artifact."""
    def esc(x: object) -> str:
        return "" if x is None else str(x).replace("|", "\\|").replace("\n", " ")

    lines = [f"# 退回 / Rejected: {esc(name)}", "", f"{len(issues)} problem(s)", "",
             "| sheet | cell | 序号 | 指标 | column | value | 问题 | problem |", "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {esc(i.sheet)} | {esc(i.cell)} | {esc(i.row_no)} | {esc(i.indicator)} | {esc(i.region)} | "
              f"{esc(i.value)} | {esc(i.message_zh)} | {esc(i.message_en)} |" for i in issues]
    return "\n".join(lines)


@flow(name="ingest-file", flow_run_name="ingest-file {path}", retries=0, log_prints=True)
def ingest_file(path: str, source: str | None = None) -> dict:
    """Ingest one report workbook; fails (no automatic retry) when the file is rejected. `source` says where it came
    from (cli:<user>, web:<account>); a file in the inbox is always inbox:<its path there>."""
    rt = load_runtime()
    src = Path(path)
    inbox = rt.settings.paths.inbox
    data, received_at = read_file(src)
    archived = archive_file(data, src.suffix, rt.settings.paths.archive)
    receipt = Receipt(sha256_of(data), src.name, str(archived.relative_to(rt.settings.home)), received_at,
                      str(flow_run.id) if flow_run.id else None, inbox_source(src, inbox) or source or cli_source())
    parsed = parse_report(data, src.name, rt.config)
    errors = check_report(parsed, rt.config, received_at.astimezone(ZoneInfo(rt.config.calendar.timezone)).date(),
                          folder_unit(src, inbox))
    warnings = [] if errors else report_warnings(rt.engine, parsed, rt.config)
    result = load_report(rt.engine, parsed, rt.config, receipt, errors, warnings)
    summary = {"file": src.name, "sha256": receipt.sha256, "status": result.status,
               "submission_id": result.submission_id, "version": result.version, "superseded": result.superseded,
               "unit": parsed.unit.code if parsed.unit else None, "month": parsed.month,
               "n_errors": result.n_errors, "n_warnings": result.n_warnings}
    if errors:
        folder = quarantine_file(data, src.name, rt.settings.paths.quarantine, errors,
                                 {"received_at": received_at.isoformat(), "unit": summary["unit"],
                                  "month": parsed.month, "submission_id": result.submission_id})
        create_markdown_artifact(markdown=rejection_markdown(src.name, errors), key=f"rejection-{receipt.sha256[:16]}",
                                 description=f"rejection report for {src.name}")
        raise ReportRejected(f"{src.name} rejected with {len(errors)} problem(s); first: {errors[0].line('en')}; "
                             f"report in {folder}")
    print(f"{src.name}: {result.status} (submission {result.submission_id}, version {result.version})")
    return summary
