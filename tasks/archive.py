"""Keep every received file: original bytes by SHA-256 first, and rejected reports in quarantine with their report."""
from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import re
import socket
import tempfile
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from prefect import task
from prefect.cache_policies import NO_CACHE

from contracts.messages import Issue
from tasks.crashpoint import pause_at
from tasks.safety import check_file

_UNSAFE = re.compile(r"[\x00-\x1f\\/:*?\"<>|]+")
_BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
ISSUES_SHEET = "问题清单"
MAX_NAME_BYTES = 200  # under the usual 255-byte limit, with room for "_标注.xlsx"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def safe_name(name: str, limit: int = 80) -> str:
    """A file name from outside made safe to use as a path: no directories, no control characters, capped."""
    base = _UNSAFE.sub("_", Path(str(name).replace("\\", "/")).name).strip(" .") or "file"
    stem, suffix = os.path.splitext(base)
    suffix = suffix[:10]
    stem = stem[: max(1, limit - len(suffix))]
    while len((stem + suffix).encode()) > MAX_NAME_BYTES and len(stem) > 1:  # file systems count bytes: 4 per 𠀀
        stem = stem[:-1]
    return stem + suffix


@functools.cache
def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"


def _temp_prefix() -> str:
    return f".tmp-{_host()}-{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_dead_temps(folder: Path) -> list[Path]:
    """Remove the temp files of writers on this host that died mid-write (kill -9); they may hold personal data."""
    removed, mine = [], f".tmp-{_host()}-"
    for tmp in folder.glob(f"{mine}*"):
        pid = tmp.name.removeprefix(mine).split("-", 1)[0]
        # Another host's writer (a shared archive) or a live one here is left alone.
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def new_temp(folder: Path) -> tuple[int, str]:
    """A new 0600 temp file in `folder` named for this host and process (fd, path), once dead writers' are swept."""
    sweep_dead_temps(folder)
    return tempfile.mkstemp(dir=folder, prefix=_temp_prefix())


def _write_once(path: Path, data: bytes, mode: int) -> None:
    """Write atomically (temp file + rename) so a crash never leaves half a file under the final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = new_temp(path.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, mode)
    pause_at("archive")
    os.replace(tmp, path)


@task(name="archive-file", cache_policy=NO_CACHE)
def archive_file(data: bytes, suffix: str, archive_dir: Path) -> Path:
    """Store the original bytes at archive/<sha[:2]>/<sha><ext>, read-only; an existing copy is left untouched."""
    sha = sha256_of(data)
    ext = suffix.lower() if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix.lower()) else ""
    path = Path(archive_dir) / sha[:2] / f"{sha}{ext}"
    if not path.exists():
        _write_once(path, data, 0o440)
    return path


def _own_workbook(data: bytes, suffix: str) -> Workbook:
    """The unit's workbook to annotate; a blank one (the list sheet only) when its bytes are unsafe or unreadable."""
    if suffix.lower() not in (".xlsx", ".xlsm"):
        return Workbook()
    try:
        check_file(data, suffix)
        return load_workbook(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - a file we could not read is still quarantined, with its problem list
        return Workbook()


def highlight(data: bytes, suffix: str, issues: Sequence[Issue]) -> bytes:
    """The unit's own workbook with each failing cell filled red and the reasons in its comment, plus a list sheet."""
    wb = _own_workbook(data, suffix)
    by_cell: dict[tuple[str, str], list[Issue]] = {}
    for issue in issues:
        if issue.sheet in wb.sheetnames and issue.cell:
            by_cell.setdefault((issue.sheet, issue.cell), []).append(issue)
    for (sheet, ref), found in by_cell.items():
        cell = wb[sheet][ref]
        cell.fill = _BAD_FILL
        text = "\n".join(f"{i.message_zh}\n{i.message_en}" for i in found)
        cell.comment = Comment(text, "北京市扶贫支援办", width=320, height=40 + 40 * len(found))
    ws = wb.create_sheet(ISSUES_SHEET, 0)
    ws.append(["工作表 sheet", "单元格 cell", "序号", "指标", "列 column", "填写值 value", "问题", "problem"])
    for i in issues:
        ws.append([i.sheet, i.cell, i.row_no, i.indicator, i.region, i.value, i.message_zh, i.message_en])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # a clerk's "=cmd|..." text must come back as text, never as a formula
    wb.active = 0
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def report_text(issues: Sequence[Issue]) -> str:
    """Every problem, in Chinese then in English, one line each."""
    zh = [f"{n}. {i.line('zh')}" for n, i in enumerate(issues, start=1)]
    en = [f"{n}. {i.line('en')}" for n, i in enumerate(issues, start=1)]
    return "\n".join([f"退回原因(共 {len(issues)} 处):", *zh, "", f"Rejected ({len(issues)} problems):", *en]) + "\n"


@task(name="quarantine-file", cache_policy=NO_CACHE)
def quarantine_file(data: bytes, original_name: str, quarantine_dir: Path, issues: Sequence[Issue],
                    meta: dict) -> Path:
    """quarantine/<sha[:16]>/: the original (safe name), report.json, report.txt and <stem>_标注.xlsx."""
    sha = sha256_of(data)
    folder = Path(quarantine_dir) / sha[:16]
    name = safe_name(original_name)
    if not (folder / name).exists():
        _write_once(folder / name, data, 0o440)
    report = {**meta, "file": original_name, "sha256": sha, "issues": [i.as_dict() for i in issues]}
    _write_once(folder / "report.json", json.dumps(report, ensure_ascii=False, indent=2, default=str).encode(), 0o640)
    _write_once(folder / "report.txt", report_text(issues).encode(), 0o640)
    stem = os.path.splitext(name)[0]
    _write_once(folder / f"{stem}_标注.xlsx", highlight(data, os.path.splitext(name)[1], issues), 0o640)
    return folder
