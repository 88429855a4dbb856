"""Keep every received file: original bytes by SHA-256 first, and rejected reports in quarantine with their report."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import re
import socket
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from contracts.messages import Issue
from core.crashpoint import pause_at
from tasks.intake.received import CHUNK, open_received

_UNSAFE = re.compile(r"[\x00-\x1f\\/:*?\"<>|]+")
MAX_NAME_BYTES = 200  # under the usual 255-byte limit, with room for "_标注.xlsx"
ARCHIVE_MODE = 0o400  # the original bytes: read-only, owner only
PRIVATE_MODE = 0o600
FIRST_SEEN = ".first-seen"  # "-" keeps it apart from any archive copy's own extension


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


def _place_once(tmp: Path, path: Path) -> None:
    """Give a finished temp file its final name unless that name exists already (the first one stays)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def _archive_path(archive_dir: Path, sha: str, suffix: str) -> Path:
    ext = suffix.lower() if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix.lower()) else ""
    return Path(archive_dir) / sha[:2] / f"{sha}{ext}"


def note_first_seen(archive_dir: Path, sha: str, seen: dt.datetime | None = None) -> dt.datetime:
    """When the pipeline first saw these bytes, by its own clock: stored once beside their archive copy.

    A later sighting (a re-send, a retry, the sweep before the run) returns the first time; `seen` (the archive
    copy's own time, which we wrote) stands in for copies archived before this record existed.
    """
    path = Path(archive_dir) / sha[:2] / f"{sha}{FIRST_SEEN}"
    if not path.exists():
        when = (seen or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temp_prefix())
        with os.fdopen(fd, "wb") as fh:
            fh.write(when.isoformat().encode())
        _place_once(Path(tmp), path)
    return dt.datetime.fromisoformat(path.read_text())


def first_seen(archived: Path) -> dt.datetime:
    """When the pipeline first saw the bytes of an archive copy (never the sender's file times)."""
    sha = archived.name.split(".")[0]
    return note_first_seen(archived.parent.parent, sha, dt.datetime.fromtimestamp(archived.stat().st_mtime, dt.UTC))


def archive_file(data: bytes, suffix: str, archive_dir: Path) -> Path:
    """Store the original bytes at archive/<sha[:2]>/<sha><ext>, read-only; an existing copy is left untouched."""
    path = _archive_path(archive_dir, sha256_of(data), suffix)
    if not path.exists():
        _write_once(path, data, ARCHIVE_MODE)
    first_seen(path)
    return path


@dataclass(frozen=True)
class Received:
    """A received file once archived: where, its SHA-256 and size, when first seen, and its bytes if small."""

    path: Path
    sha256: str
    size: int
    first_seen: dt.datetime
    data: bytes | None


def _stream(src: BinaryIO, out: BinaryIO, keep_up_to: int) -> tuple[str, int, bytes | None]:
    """Copy and hash in 1 MB chunks, holding the bytes only while they stay within `keep_up_to`."""
    digest, kept, size = hashlib.sha256(), [], 0
    while chunk := src.read(CHUNK):
        digest.update(chunk)
        out.write(chunk)
        size += len(chunk)
        if size <= keep_up_to:
            kept.append(chunk)
    return digest.hexdigest(), size, b"".join(kept) if size <= keep_up_to else None


def receive_file(source: Path, archive_dir: Path, max_bytes: int) -> Received:
    """Archive a received file in one streamed, hashed copy; its bytes are kept in memory only up to `max_bytes`.

    The size is read from the open file before any byte is, and a symlink or special file is refused unread.
    """
    Path(archive_dir).mkdir(parents=True, exist_ok=True)
    sweep_dead_temps(Path(archive_dir))
    fd = open_received(source)
    keep_up_to = max_bytes if os.fstat(fd).st_size <= max_bytes else -1
    out_fd, tmp = tempfile.mkstemp(dir=archive_dir, prefix=_temp_prefix())
    try:
        with os.fdopen(fd, "rb") as src, os.fdopen(out_fd, "wb") as out:
            sha, size, data = _stream(src, out, keep_up_to)
        os.chmod(tmp, ARCHIVE_MODE)
        pause_at("archive")
        path = _archive_path(archive_dir, sha, source.suffix)
        _place_once(Path(tmp), path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return Received(path, sha, size, first_seen(path), data)


def report_text(issues: Sequence[Issue]) -> str:
    """Every problem, in Chinese then in English, one line each."""
    zh = [f"{n}. {i.line('zh')}" for n, i in enumerate(issues, start=1)]
    en = [f"{n}. {i.line('en')}" for n, i in enumerate(issues, start=1)]
    return "\n".join([f"退回原因(共 {len(issues)} 处):", *zh, "", f"Rejected ({len(issues)} problems):", *en]) + "\n"


def _original_copy(folder: Path, name: str, data: bytes | None, archived: Path | None) -> str | None:
    """The original beside its report: a hard link to the archive copy (no second copy), else a copy if small."""
    target = folder / name
    if target.exists():
        return name
    if archived is not None:
        try:
            os.link(archived, target)
            return name
        except OSError:
            pass  # another file system, or links not allowed: report.json names the archive copy instead
    if data is None:
        return None
    _write_once(target, data, ARCHIVE_MODE)
    return name


def quarantine_file(
    data: bytes | None,
    original_name: str,
    quarantine_dir: Path,
    issues: Sequence[Issue],
    meta: dict,
    archived: Path | None = None,
) -> Path:
    """quarantine/<sha[:16]>/: the original (safe name), report.json, report.txt and <stem>_标注.xlsx.

    With `archived`, the original is a hard link to the archive copy and `data` may be None (a file too large to
    hold); report.json always names the archive copy.
    """
    sha = archived.name.split(".")[0] if archived is not None else sha256_of(data or b"")
    folder = Path(quarantine_dir) / sha[:16]
    folder.mkdir(parents=True, exist_ok=True)
    name = safe_name(original_name)
    kept = _original_copy(folder, name, data, archived)
    report = {
        **meta,
        "file": original_name,
        "sha256": sha,
        "original": kept,
        "archive": str(archived.relative_to(archived.parents[2])) if archived is not None else None,
        "issues": [i.as_dict() for i in issues],
    }
    _write_once(
        folder / "report.json", json.dumps(report, ensure_ascii=False, indent=2, default=str).encode(), PRIVATE_MODE
    )
    _write_once(folder / "report.txt", report_text(issues).encode(), PRIVATE_MODE)
    stem = os.path.splitext(name)[0]
    from tasks.intake.highlight import highlight  # openpyxl only when a file is rejected: it costs 0.2 s to load

    _write_once(folder / f"{stem}_标注.xlsx", highlight(data or b"", os.path.splitext(name)[1], issues), PRIVATE_MODE)
    return folder
