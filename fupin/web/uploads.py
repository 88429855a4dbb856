"""An uploaded workbook: read under the size cap, refused when it is another unit's, checked, or handed in."""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import HTTPException, Request
from sqlalchemy import select
from starlette.datastructures import UploadFile

from config import Config, Unit, normalize_text
from contracts.messages import Issue
from core.clock import office_date
from core.settings import PRIVATE_DIR
from flows.runtime import Runtime
from tasks.accounts.users import User, now_utc
from tasks.intake.archive import safe_name
from tasks.report.workbook import SUFFIXES
from warehouse.schema import fct_submission

if TYPE_CHECKING:
    from tasks.intake.outcome import FileOutcome
    from tasks.report.check import WorkbookCheck

MULTIPART_SLACK = 64 << 10  # the form's boundaries and other fields around the file
BUSY_WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes
    fields: dict[str, str]


class ForeignFile(Exception):
    """The file is another unit's: refused before anything is stored."""

    def __init__(self, unit: Unit, mine: Unit) -> None:
        self.unit, self.mine = unit, mine
        super().__init__(
            f"此文件属于{unit.name}，您登录的单位是{mine.name} / this file is for {unit.name}; "
            f"you are signed in for {mine.name}"
        )


async def read_upload(request: Request, cap: int) -> Upload:
    """The multipart `file` and the form's other fields; 413 past `cap` bytes, counted before the form is parsed."""
    limit = cap + MULTIPART_SLACK
    length = request.headers.get("content-length")
    too_big = HTTPException(413, f"文件超过 {cap >> 20} MB 上限 / the file is larger than the {cap >> 20} MB limit")
    if length and length.isdigit() and int(length) > limit:
        raise too_big
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_big
    request._body = bytes(body)  # the form parser reads the body kept here instead of the spent stream
    form = await request.form(max_files=1, max_fields=20)
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise HTTPException(400, "请选择要上传的文件 / choose a file to upload (multipart field `file`)")
    data = await file.read()
    if len(data) > cap:
        raise too_big
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return Upload(file.filename, data, fields)


def units_named(cfg: Config, file_name: str) -> list[Unit]:
    """The units whose name, official name or alias a file name contains (its stem, folded like clerks' text)."""
    stem = normalize_text(Path(file_name.replace("\\", "/")).stem)
    found: list[Unit] = []
    for unit in cfg.units:
        names = (unit.name, unit.official_name, *unit.aliases)
        if any(len(n) >= 2 and normalize_text(n) in stem for n in names):
            found.append(unit)
    return found


def foreign_unit(cfg: Config, mine: str, check: WorkbookCheck, file_name: str) -> Unit | None:
    """Another unit the file belongs to by its marker or 填报单位, or whose name alone its file name carries."""
    parsed = check.parsed
    if parsed.unit is not None and parsed.unit.code != mine:
        return parsed.unit
    named = units_named(cfg, file_name)
    if named and mine not in {u.code for u in named}:
        return named[0]
    return None


def office_today(cfg: Config) -> dt.date:
    return office_date(now_utc(), cfg.calendar.timezone)


def check_upload(rt: Runtime, user: User, upload: Upload) -> WorkbookCheck:
    """The same parse and contracts as ingest-file, storing nothing; ForeignFile for another unit's file."""
    from tasks.report.check import check_workbook

    check = check_workbook(
        upload.data, safe_name(upload.name), rt.config, rt.engine, office_today(rt.config), user.unit_code
    )
    if user.unit_code is not None and (other := foreign_unit(rt.config, user.unit_code, check, upload.name)):
        raise ForeignFile(other, rt.config.unit(user.unit_code))
    return check


def place(inbox: Path, unit_code: str, name: str, data: bytes) -> Path:
    """Write the upload to inbox/<unit code>/<safe name> (never a path from the name), whole before it appears."""
    folder = inbox / unit_code
    folder.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    base = safe_name(name)
    stem, suffix = os.path.splitext(base)
    if suffix.lower() not in SUFFIXES:
        raise HTTPException(
            400, f"只接受 {'、'.join(sorted(SUFFIXES))} 文件 / only {', '.join(sorted(SUFFIXES))} files"
        )
    temp = folder / f".upload-{os.getpid()}-{time.monotonic_ns()}.part"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    try:
        for n in range(1000):
            target = folder / (base if n == 0 else f"{stem}({n}){suffix}")
            try:
                os.link(temp, target)  # never replaces a file another clerk is handing in
                return target
            except FileExistsError:
                continue
        raise HTTPException(503, "收件箱繁忙 / the inbox is busy: try again")
    finally:
        temp.unlink(missing_ok=True)


def _settled(rt: Runtime, outcome: FileOutcome) -> FileOutcome:
    """When another run held the same bytes (the inbox sweep saw the file first), wait for what it recorded."""
    if outcome.status != "busy" or outcome.sha256 is None:
        return outcome
    deadline = time.monotonic() + BUSY_WAIT_SECONDS
    while time.monotonic() < deadline:
        with rt.engine.connect() as conn:
            row = conn.execute(
                select(fct_submission.c.submission_id, fct_submission.c.status, fct_submission.c.version)
                .where(fct_submission.c.sha256 == outcome.sha256)
                .order_by(fct_submission.c.submission_id.desc())
            ).first()
        if row is not None:
            return replace(outcome, status=row.status, submission_id=row.submission_id, version=row.version)
        time.sleep(0.5)
    return outcome


def submit_upload(rt: Runtime, user: User, upload: Upload) -> tuple[WorkbookCheck, FileOutcome]:
    """Check first (another unit's file is refused unstored), then ingest it as every other file is ingested."""
    from flows.intake import ingest_paths

    if user.unit_code is None:
        raise HTTPException(403, "只有填报单位的账户可以报送 / only a unit's clerk hands in reports")
    check = check_upload(rt, user, upload)
    path = place(rt.settings.paths.inbox, user.unit_code, upload.name, upload.data)
    (outcome,) = ingest_paths(rt, [path], source=f"web:{user.username}")
    return check, _settled(rt, outcome)


def issue_json(issue: Issue) -> dict:
    """One problem in the pinned API's shape."""
    return {
        "sheet": issue.sheet,
        "cell": issue.cell,
        "row_no": issue.row_no,
        "region": issue.region,
        "value": issue.value,
        "rule": issue.rule,
        "message_zh": issue.message_zh,
        "message_en": issue.message_en,
    }
