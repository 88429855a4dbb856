"""What `fupin ingest` takes and shows, the same whether the files were ingested in the command's own process or
handed to the platform that `fupin serve` keeps warm: the files named, and one plain row per file."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from tasks.intake.outcome import FileOutcome
    from tasks.intake.received import Refusal

Row = dict[str, Any]


def expand(paths: Iterable[Path]) -> tuple[list[Path], list[Refusal]]:
    """The files named or held by `paths`, and those refused unread (symlinks, special files) with why."""
    from tasks.intake.received import Refusal, drop_folder, refusal
    from tasks.report.workbook import SUFFIXES

    out: list[Path] = []
    refused: list[Refusal] = []
    for p in paths:
        if p.is_dir():
            files, bad = drop_folder(p, SUFFIXES)
            out += files
            refused += bad
        elif not os.path.lexists(p):
            raise UsageError(f"no such file or folder: {p}")
        elif why := refusal(p, p.parent):
            refused.append(Refusal(p, why))
        else:
            out.append(p)
    return out, refused


def current_submissions(engine: Engine, submission_ids: Iterable[int | None]) -> set[int]:
    """Which of the accepted submissions are still current (a later file in the same batch supersedes one)."""
    from sqlalchemy import select

    from warehouse.schema import fct_submission

    ids = sorted({i for i in submission_ids if i is not None})
    if not ids:
        return set()
    with engine.connect() as conn:
        query = select(fct_submission.c.submission_id).where(
            fct_submission.c.submission_id.in_(ids), fct_submission.c.is_current
        )
        return set(conn.execute(query).scalars())


def outcome_row(outcome: FileOutcome, current: set[int]) -> Row:
    """One file's line of the table: its status (superseded when a later file replaced it), unit, month, counts."""
    o = outcome
    status = "superseded" if o.status == "accepted" and o.submission_id not in current else o.status
    note = _first_problem(o) if o.errors else ("" if o.status in ("accepted", "duplicate") else o.message)
    return {
        "file": o.name,
        "status": status,
        "unit": o.unit_name or "",
        "month": o.month or "",
        "version": "" if o.version is None else str(o.version),
        "errors": len(o.errors),
        "warnings": len(o.warnings),
        "note": note[:100],
    }


def refused_row(item: Refusal) -> Row:
    """A file refused unread: its name and why."""
    from tasks.intake.received import name_of

    return {
        "file": name_of(item.path),
        "status": "refused",
        "unit": "",
        "month": "",
        "version": "",
        "errors": "",
        "warnings": "",
        "note": item.reason,
    }


def table_rows(engine: Engine, outcomes: list[FileOutcome], refused: list[Refusal]) -> list[Row]:
    """Every file's row: the ingested ones in order, then the refused ones."""
    current = current_submissions(engine, [o.submission_id for o in outcomes if o.status == "accepted"])
    return [outcome_row(o, current) for o in outcomes] + [refused_row(r) for r in refused]


def _first_problem(outcome: FileOutcome) -> str:
    first = outcome.errors[0]
    where = f"{first.sheet}!{first.cell} " if first.cell else ""
    return f"{where}{first.message_zh}"
