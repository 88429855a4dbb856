"""What a sweep of the inbox finds: new workbooks in arrival order, and files refused unread with why."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select

from tasks.intake.archive import note_first_seen
from tasks.intake.provenance import unit_folders
from tasks.intake.received import Refusal, RefusedFile, drop_folder, hash_file
from warehouse.schema import dim_unit, fct_submission

FINISHED = ("accepted", "rejected")


@dataclass(frozen=True)
class InboxScan:
    """New files to ingest, in arrival order, with their SHA-256, and files refused unread with why."""

    files: list[Path]
    shas: dict[Path, str]
    refused: list[Refusal]
    finished: dict[Path, str]  # files whose bytes were already accepted or rejected: their status, to settle them


def _landed(path: Path) -> tuple[int, str]:
    # ctime is set by the kernel when the file lands and cannot be backdated with utime, unlike mtime.
    return os.lstat(path).st_ctime_ns, path.name


def new_inbox_files(inbox: Path, archive: Path, engine: Engine, suffixes: tuple[str, ...]) -> InboxScan:
    """Inbox workbooks, units' own folders included (done/ and rejected/ never), whose bytes were never accepted or
    rejected (same bytes twice = one submission).

    Only finished files count as known, so a file whose run died is picked up again (loading is idempotent).
    Each new file's first sighting is noted by the pipeline's clock; symlinks and non-files are refused unread.
    """
    with engine.connect() as conn:
        units = set(conn.execute(select(dim_unit.c.unit_code)).scalars())
        known = dict(
            conn.execute(
                select(fct_submission.c.sha256, fct_submission.c.status)
                .where(fct_submission.c.status.in_(FINISHED))
                .order_by(fct_submission.c.submission_id)
            ).all()
        )
    files, refused = [], []
    for folder in (inbox, *unit_folders(inbox, units)):
        found, why = drop_folder(folder, suffixes)
        files += found
        refused += why
    new, shas, finished = [], {}, {}
    for path in sorted(files, key=_landed):
        try:
            sha = hash_file(path)
        except (RefusedFile, OSError) as exc:
            refused.append(Refusal(path, str(exc)))
            continue
        if sha in known:
            finished[path] = known[sha]
            continue
        note_first_seen(archive, sha)
        new.append(path)
        shas[path] = sha
    return InboxScan(new, shas, refused, finished)
