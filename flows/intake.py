"""Ingest report files with the same steps wherever they run: an ingest-file run, a sweep of the inbox, the CLI and
the web platform. Many files are ingested in one process; each still gets its own ingest-file run when an API is
there, so every failed file can be retried from the UI on its own."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass, replace
from pathlib import Path

from contracts.messages import Issue
from core.clock import office_date
from core.retry import call_with_retries
from flows.runtime import Runtime, run_log
from tasks.intake.archive import quarantine_file, receive_file
from tasks.intake.claim import claim
from tasks.intake.outcome import FileOutcome, outcome_message
from tasks.intake.provenance import cli_source, folder_unit, inbox_source
from tasks.intake.received import Refusal, RefusedFile, name_hex, name_of, path_param
from tasks.intake.safety import REPORT_LIMITS
from tasks.intake.scan import new_inbox_files
from tasks.intake.settle import settle_file
from tasks.mail.send import sink_from_settings
from tasks.publish.at_once import SentAtOnce, send_at_once
from tasks.report.check import check_parsed
from tasks.report.load import Receipt, load_report, note_runs
from tasks.report.parse import parse_report, refused_for_size
from tasks.report.workbook import SUFFIXES
from tasks.runs.record import RunRecorder, RunSpec

__all__ = [
    "FileOutcome",
    "Recording",
    "Sweep",
    "begin_sweep",
    "ingest_one",
    "ingest_paths",
    "rejection_markdown",
    "send_receipts",
    "sweep_inbox",
]
RECORDED = ("accepted", "rejected", "crashed")
WEB = "web:"
CRASH_ATTEMPTS = 3


def ingest_one(
    rt: Runtime, path: Path, source: str | None = None, run_id: str | None = None, wait_seconds: float = 0.0
) -> FileOutcome:
    """Archive, parse, check and load one workbook; quarantine a rejected one; move an inbox file to done/ or
    rejected/. Another run ingesting the same bytes makes this one `busy` (after waiting up to `wait_seconds`)."""
    name, inbox = name_of(path), rt.settings.paths.inbox
    got = receive_file(path, rt.settings.paths.archive, REPORT_LIMITS.max_file_bytes)
    with claim(rt.settings.paths.archive, got.sha256, wait_seconds) as held:
        if not held:
            return FileOutcome(
                path, name, got.sha256, "busy", message="另一运行正在处理同一文件 / another run holds it"
            )
        receipt = Receipt(
            got.sha256,
            name,
            str(got.path.relative_to(rt.settings.home)),
            got.first_seen,
            run_id,
            _source(path, inbox, source),
            name_hex(path),
        )
        parsed = parse_report(got.data, name, rt.config) if got.data is not None else refused_for_size(name, got.size)
        received_on = office_date(got.first_seen, rt.config.calendar.timezone)
        check = check_parsed(parsed, rt.config, rt.engine, received_on, folder_unit(path, inbox))
        result = call_with_retries(load_report, rt.engine, parsed, rt.config, receipt, check.errors, check.warnings)
        errors = list(check.errors) or ([result.locked] if result.locked else [])
        folder = None
        if errors:
            meta = {
                "received_at": got.first_seen.isoformat(),
                "unit": parsed.unit.code if parsed.unit else None,
                "month": parsed.month,
                "submission_id": result.submission_id,
                "name_hex": receipt.name_hex,
            }
            folder = quarantine_file(got.data, name, rt.settings.paths.quarantine, errors, meta, archived=got.path)
        moved = settle_file(path, inbox, accepted=result.status != "rejected")
    outcome = FileOutcome(
        path=moved,
        name=name,
        sha256=got.sha256,
        status=result.status,
        submission_id=result.submission_id,
        version=result.version,
        superseded=result.superseded,
        unit_code=parsed.unit.code if parsed.unit else None,
        unit_name=parsed.unit.name if parsed.unit else None,
        month=parsed.month,
        errors=tuple(errors),
        warnings=tuple(check.warnings) if not errors else (),
        run_id=run_id,
        quarantine=folder,
        name_hex=receipt.name_hex,
    )
    return replace(outcome, message=outcome_message(outcome))


def _source(path: Path, inbox: Path, given: str | None) -> str:
    """Where the file came from: the platform's account (it drops uploads in the unit's inbox folder), else the
    inbox path the pipeline found it at, else what the caller said, else the OS user."""
    if given and given.startswith(WEB):
        return given
    return inbox_source(path, inbox) or given or cli_source()


def attempt_one(
    rt: Runtime,
    path: Path,
    source: str | None = None,
    attempts: int = CRASH_ATTEMPTS,
    raise_last: bool = False,
    wait_seconds: float = 0.0,
    run_id: str | None = None,
) -> FileOutcome:
    """ingest_one, tried again a bounded number of times when it crashes on an unexpected error (a rejection is an
    outcome, not a crash); the last crash is raised (`raise_last`) or returned as a `crashed` outcome."""
    name = name_of(path)
    for attempt in range(1, attempts + 1):
        try:
            return replace(ingest_one(rt, path, source, run_id, wait_seconds), attempts=attempt)
        except (RefusedFile, FileNotFoundError) as exc:
            return FileOutcome(path, name, None, "refused", message=f"拒收 / refused: {exc}")
        except Exception as exc:
            run_log().warning("%s: attempt %d of %d crashed: %s", name, attempt, attempts, type(exc).__name__)
            if attempt == attempts:
                if raise_last:
                    raise
                run_log().exception("%s: crashed", name)
                why = f"运行出错 / crashed: {type(exc).__name__} (attempt {attempt} of {attempts})"
                return FileOutcome(path, name, None, "crashed", message=f"{name}：{why}", attempts=attempt)
            time.sleep(min(10.0, 0.5 * 2**attempt))
    raise AssertionError("unreachable")  # the loop returns or raises


def rejection_markdown(name: str, issues: Iterable[Issue]) -> str:
    """The rejection as a markdown table, for the run's artifact."""

    def esc(x: object) -> str:
        return "" if x is None else str(x).replace("|", "\\|").replace("\n", " ")

    found = list(issues)
    lines = [
        f"# 退回 / Rejected: {esc(name)}",
        "",
        f"{len(found)} problem(s)",
        "",
        "| sheet | cell | 序号 | 指标 | column | value | 问题 | problem |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {esc(i.sheet)} | {esc(i.cell)} | {esc(i.row_no)} | {esc(i.indicator)} | {esc(i.region)} | "
        f"{esc(i.value)} | {esc(i.message_zh)} | {esc(i.message_en)} |"
        for i in found
    ]
    return "\n".join(lines)


def run_spec(outcome: FileOutcome, source: str | None) -> RunSpec:
    """How a file ingested in-process shows as its own ingest-file run; its parameters re-run it from where it is."""
    key = f"{outcome.sha256}:{outcome.submission_id}" if outcome.submission_id else uuid.uuid4().hex
    rejected = outcome.status == "rejected"
    return RunSpec(
        name=outcome.run_name,
        tags=outcome.tags,
        parameters={"path": path_param(outcome.path), "source": source},
        status=outcome.status,
        message=outcome.message,
        idempotency_key=f"ingest-file:{key}",
        artifact_key=f"rejection-{outcome.sha256[:16]}" if rejected and outcome.sha256 else None,
        artifact_markdown=rejection_markdown(outcome.name, outcome.errors) if rejected else None,
        artifact_description=f"rejection report for {outcome.name}" if rejected else None,
    )


def ingest_paths(
    rt: Runtime,
    paths: list[Path],
    source: str | None = None,
    on_file: Callable[[FileOutcome], None] | None = None,
    record: bool | None = None,
) -> list[FileOutcome]:
    """Ingest files one after another in this process, send the batch's receipts and rejection reports
    (send_receipts), and return once each accepted, rejected or crashed file is recorded as its own ingest-file run
    (with a Prefect API; record None: whenever one is configured)."""
    return begin_ingest(rt, paths, source, on_file, record).finish()


class Recording:
    """Files ingested, whose runs may still be being recorded on a thread: finish() waits for them."""

    def __init__(
        self,
        rt: Runtime,
        outcomes: list[FileOutcome],
        recorder: RunRecorder | None,
        thread: ThreadPoolExecutor | None,
        pending: dict[int, Future[str | None]],
    ) -> None:
        # `outcomes` and `pending` are the ingest loop's own, filled as it goes.
        self.rt, self.outcomes, self._recorder, self._thread, self._pending = rt, outcomes, recorder, thread, pending
        self._done: list[FileOutcome] | None = None

    def finish(self) -> list[FileOutcome]:
        """The outcomes with their runs' ids, once every run is recorded and each submission is linked to its run."""
        if self._done is None:
            self._stop()
            runs = {i: f.result() for i, f in self._pending.items()}
            self._done = _with_runs(self.rt, self.outcomes, runs)
        return self._done

    def _stop(self) -> None:
        if self._thread is not None and self._recorder is not None:
            self._thread.shutdown(wait=True)
            self._recorder.__exit__(None, None, None)
        self._thread = self._recorder = None


def begin_ingest(
    rt: Runtime,
    paths: list[Path],
    source: str | None = None,
    on_file: Callable[[FileOutcome], None] | None = None,
    record: bool | None = None,
) -> Recording:
    """ingest_paths, returning while the files' runs may still be being recorded: what needs no run (publishing,
    say) goes on meanwhile, and Recording.finish() waits for them."""
    outcomes: list[FileOutcome] = []
    recorder = _recorder(record) if paths else None  # nothing to record: no API connection either
    # Runs are recorded on a thread of their own while the next file is ingested: the API's answers (the server
    # runs on the other core) no longer add up file after file.
    thread = ThreadPoolExecutor(1, thread_name_prefix="record-runs") if recorder is not None else None
    pending: dict[int, Future[str | None]] = {}
    recording = Recording(rt, outcomes, recorder, thread, pending)
    try:
        for path in paths:
            outcome = attempt_one(rt, path, source)
            if thread is not None and recorder is not None and outcome.status in RECORDED:
                pending[len(outcomes)] = thread.submit(copy_context().run, _record, recorder, outcome, source)
            outcomes.append(outcome)
            if on_file is not None:
                on_file(outcome)
    except BaseException:
        recording.finish()
        raise
    send_receipts(rt, outcomes)
    return recording


def _with_runs(rt: Runtime, outcomes: list[FileOutcome], runs: dict[int, str | None]) -> list[FileOutcome]:
    """The outcomes with their recorded runs' ids, each submission linked to its run in one transaction."""
    out = [replace(o, run_id=runs[i]) if runs.get(i) else o for i, o in enumerate(outcomes)]
    links = {o.submission_id: o.run_id for o in out if o.submission_id is not None and o.run_id}
    try:
        call_with_retries(note_runs, rt.engine, links)
    except Exception as exc:  # noqa: BLE001 - the files and their runs exist; only the link back is missing
        run_log().warning("runs not linked to their submissions (%s)", type(exc).__name__)
    return out


def send_receipts(rt: Runtime, outcomes: Iterable[FileOutcome]) -> SentAtOnce:
    """Right after an ingest, each file's receipt or rejection report to its unit, once (what fct_mail has no
    delivered row for). A mail that cannot go never changes a file's outcome: it stays owed, said once here, and goes
    with the next `publish --send` (the monthly close) or notify-submissions run."""
    ids = [o.submission_id for o in outcomes if o.submission_id is not None]
    if not ids:
        return SentAtOnce()
    try:
        sent = send_at_once(
            rt.engine,
            rt.config,
            rt.settings.paths.quarantine,
            ids,
            lambda: sink_from_settings(rt.settings, at_once=True),
            rt.settings.mail_from,
        )
    except Exception as exc:  # noqa: BLE001 - the files are in; a mail step that breaks must not undo that
        first_line = (str(exc).splitlines() or [""])[0]
        sent = SentAtOnce(owed=len(ids), failure=f"{type(exc).__name__}: {first_line}")
    if sent.failure:
        run_log().warning(
            "回执/退回邮件未能发送，%d 封待下次发送 / %d receipt(s) or rejection(s) not sent, still owed: %s",
            sent.owed,
            sent.owed,
            sent.failure,
        )
    return sent


def _recorder(record: bool | None) -> RunRecorder | None:
    """A recorder on the configured Prefect API, or None when there is none or it has no ingest-file deployment."""
    from flows.runtime import api_configured

    if record is False or (record is None and not api_configured()):
        return None
    try:
        return RunRecorder().__enter__()
    except Exception as exc:  # noqa: BLE001 - files are ingested all the same; only their runs go unrecorded
        run_log().warning("runs not recorded in Prefect (%s): %s", type(exc).__name__, str(exc).splitlines()[0])
        return None


def _record(recorder: RunRecorder, outcome: FileOutcome, source: str | None) -> str | None:
    """The id of the run recorded for `outcome`, or None when it could not be (said in the log)."""
    try:
        return recorder.record(run_spec(outcome, source))
    except Exception as exc:  # noqa: BLE001 - the file is in the warehouse; a missing run must not stop the sweep
        run_log().warning("%s: run not recorded (%s)", outcome.name, type(exc).__name__)
        return None


@dataclass(frozen=True)
class Sweep:
    """What one sweep of the inbox did: each new file's outcome, files refused unread, and known files moved away."""

    outcomes: list[FileOutcome]
    refused: list[Refusal]
    settled: list[Path]


def sweep_inbox(
    rt: Runtime,
    on_start: Callable[[int], None] | None = None,
    on_file: Callable[[FileOutcome], None] | None = None,
    record: bool | None = None,
) -> Sweep:
    """Ingest every new file of the inbox (units' folders included) in this process, in arrival order; files whose
    bytes were already accepted or rejected just move to done/ or rejected/."""
    sweep, recording = begin_sweep(rt, on_start, on_file, record)
    return replace(sweep, outcomes=recording.finish())


def begin_sweep(
    rt: Runtime,
    on_start: Callable[[int], None] | None = None,
    on_file: Callable[[FileOutcome], None] | None = None,
    record: bool | None = None,
) -> tuple[Sweep, Recording]:
    """sweep_inbox, returning while the files' runs may still be being recorded (Recording.finish waits)."""
    paths = rt.settings.paths
    scan = new_inbox_files(paths.inbox, paths.archive, rt.engine, SUFFIXES)
    for item in scan.refused:
        run_log().warning("%s: refused, not read / 拒收: %s", name_of(item.path), item.reason)
    settled = [settle_file(p, paths.inbox, accepted=status == "accepted") for p, status in scan.finished.items()]
    if on_start is not None:
        on_start(len(scan.files))
    recording = begin_ingest(rt, scan.files, None, on_file, record)
    return Sweep(recording.outcomes, scan.refused, settled), recording
