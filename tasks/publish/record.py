"""Freeze and record a publication: versions per month in fct_publication, the file made read-only, its hash kept."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, exists, func, insert, select

from core.month import month_key
from warehouse.schema import fct_mail, fct_publication

FROZEN_MODE = 0o400  # read-only, and owner-only like everything under FUPIN_HOME


@dataclass(frozen=True)
class PublicationRecord:
    publication_id: int
    month: str
    version: int
    sha256: str
    path: Path
    submission_ids: list[int]


def latest_publication(engine: Engine, month: str) -> PublicationRecord | None:
    """The month's newest recorded publication, if any."""
    p = fct_publication
    with engine.connect() as conn:
        row = conn.execute(
            select(p).where(p.c.month_key == month_key(month)).order_by(p.c.version.desc()).limit(1)
        ).first()
    if row is None:
        return None
    return PublicationRecord(
        row.publication_id, month, row.version, row.sha256, Path(row.path), json.loads(row.submission_ids)
    )


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def freeze(tmp: Path, final: Path) -> str:
    """Move the written workbook into place atomically, make it read-only, and return its SHA-256."""
    os.replace(tmp, final)
    final.chmod(FROZEN_MODE)
    return sha256_of(final)


def record_publication(
    engine: Engine, month: str, version: int, path: Path, sha: str, submission_ids: list[int]
) -> PublicationRecord:
    """Insert the publication row: hash, time and the submissions it used."""
    with engine.begin() as conn:
        taken = (
            conn.execute(
                select(func.max(fct_publication.c.version)).where(fct_publication.c.month_key == month_key(month))
            ).scalar()
            or 0
        )
        if taken >= version:
            raise RuntimeError(f"publication {month} v{version} already recorded (latest v{taken}); publish again")
        pid = conn.execute(
            insert(fct_publication)
            .values(
                month_key=month_key(month),
                version=version,
                sha256=sha,
                path=str(path),
                published_at=dt.datetime.now(dt.UTC),
                submission_ids=json.dumps(submission_ids),
            )
            .returning(fct_publication.c.publication_id)
        ).scalar_one()
    return PublicationRecord(pid, month, version, sha, path, submission_ids)


def publication_mailed(engine: Engine, publication_id: int) -> bool:
    """Whether the workbook of this publication has already been delivered to the office."""
    query = select(
        exists().where(
            fct_mail.c.publication_id == publication_id,
            fct_mail.c.kind == "publication",
            fct_mail.c.status.in_(("sent", "written")),
        )
    )
    with engine.connect() as conn:
        return bool(conn.execute(query).scalar())
