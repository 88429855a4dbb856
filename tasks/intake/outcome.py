"""What became of one received file, in the words the CLI, the web platform and the Prefect UI all show."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from contracts.messages import Issue

FORM = "report"  # the three forms of the monthly report arrive as one workbook


@dataclass(frozen=True)
class FileOutcome:
    """One file's result. status: accepted, rejected, duplicate, refused, busy (another run holds it) or crashed."""

    path: Path  # where the file is now: an inbox file has moved to inbox/done/ or inbox/rejected/
    name: str
    sha256: str | None
    status: str
    submission_id: int | None = None
    version: int | None = None
    superseded: int | None = None  # the version this one replaced as current
    unit_code: str | None = None
    unit_name: str | None = None
    month: str | None = None
    errors: tuple[Issue, ...] = ()
    warnings: tuple[Issue, ...] = ()
    message: str = ""
    run_id: str | None = None
    quarantine: Path | None = None
    attempts: int = 1

    @property
    def run_name(self) -> str:
        """`ingest-file 朝阳区 2020-09 <file name>`: who and which month first, as soon as the parse knows them."""
        return " ".join(p for p in ("ingest-file", self.unit_name, self.month, self.name) if p)

    @property
    def tags(self) -> list[str]:
        """The unit code, the month and the form, to filter the run list by."""
        tags = ["fupin", "ingest", f"form:{FORM}"]
        tags += [f"unit:{self.unit_code}"] if self.unit_code else []
        return tags + ([f"month:{self.month}"] if self.month else [])

    def summary(self) -> dict:
        """JSON-safe facts for a run's result and the CLI's table (issues counted, not quoted)."""
        return {
            "file": self.name,
            "sha256": self.sha256,
            "status": self.status,
            "submission_id": self.submission_id,
            "version": self.version,
            "superseded": self.superseded,
            "unit": self.unit_code,
            "month": self.month,
            "n_errors": len(self.errors),
            "n_warnings": len(self.warnings),
            "message": self.message,
            "run_id": self.run_id,
        }


def outcome_message(outcome: FileOutcome) -> str:
    """One bilingual line: what happened to the file, and the first reason when it was rejected."""
    name = outcome.name
    if outcome.status == "accepted":
        also = f"，替换第{outcome.superseded}版 / replaces version {outcome.superseded}" if outcome.superseded else ""
        return f"{name}：已接收，第{outcome.version}版 / accepted as version {outcome.version}{also}"
    if outcome.status == "rejected" and outcome.errors:
        first, n = outcome.errors[0], len(outcome.errors)
        where = f"{first.sheet}!{first.cell} " if first.cell else (f"{first.sheet} " if first.sheet else "")
        return (
            f"{name}：退回，{n} 处问题，首个：{where}{first.message_zh} / "
            f"rejected with {n} problem(s); first: {where}{first.message_en}"
        )
    if outcome.status == "duplicate":
        return f"{name}：与已接收的文件相同，未重复入库 / the same bytes were already accepted; not loaded again"
    return f"{name}：{outcome.message}" if outcome.message else name
