"""Files as they arrive: their names as bytes, which ones may be read at all, and their SHA-256 without a symlink."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_to_bytes

from core.errors import FupinError

CHUNK = 1 << 20
_URI = "file://"


class RefusedFile(FupinError):
    """A file the pipeline will not open (a symlink, not a regular file, outside its folder); nothing was read."""


@dataclass(frozen=True)
class Refusal:
    path: Path
    reason: str


def display_name(raw: bytes) -> str:
    """A name from a file system as text: UTF-8, else GB18030 (Windows/Samba), else with \\x escapes."""
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "backslashreplace")


def name_of(path: Path) -> str:
    """The file name of `path` as text that any log, JSON or database can hold."""
    return display_name(os.fsencode(path.name))


def name_hex(path: Path) -> str:
    """The file name's original bytes, in hex: what the sender's system really wrote."""
    return os.fsencode(path.name).hex()


def path_param(path: Path) -> str:
    """A path as a flow parameter: itself when it is UTF-8, else a file:// URI of its bytes (JSON cannot hold them)."""
    try:
        os.fsencode(path).decode("utf-8")
        return str(path)
    except UnicodeDecodeError:
        return Path(os.path.abspath(path)).as_uri()


def param_path(param: str) -> Path:
    """The path a flow parameter names (the inverse of path_param)."""
    if param.startswith(_URI):
        return Path(os.fsdecode(unquote_to_bytes(param[len(_URI) :])))
    return Path(param)


def _why_not(mode: int) -> str | None:
    if stat.S_ISLNK(mode):
        return "符号链接，不予读取 / a symbolic link: not followed"
    if not stat.S_ISREG(mode):
        return "不是普通文件 / not a regular file"
    return None


def refusal(path: Path, folder: Path) -> str | None:
    """Why `path` in the drop folder `folder` must not be read: a symlink, not a file, or resolving outside it."""
    try:
        why = _why_not(os.lstat(path).st_mode)
    except OSError as exc:
        return f"无法读取 / cannot be read: {exc.strerror}"
    if why:
        return why
    if Path(os.path.realpath(path)).parent != Path(os.path.realpath(folder)):
        return "文件实际位于收件夹之外 / the file resolves outside its drop folder"
    return None


def open_received(path: Path) -> int:
    """An fd on a regular file that is not a symlink (O_NOFOLLOW, so no race between the check and the open)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if os.path.islink(path):
            raise RefusedFile(f"{name_of(path)}: {_why_not(stat.S_IFLNK)}") from exc
        raise
    why = _why_not(os.fstat(fd).st_mode)
    if why:
        os.close(fd)
        raise RefusedFile(f"{name_of(path)}: {why}")
    return fd


def hash_file(path: Path) -> str:
    """SHA-256 of a received file, streamed in 1 MB chunks; a symlink or special file is refused, never read."""
    digest = hashlib.sha256()
    with os.fdopen(open_received(path), "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def drop_folder(folder: Path, suffixes: Collection[str]) -> tuple[list[Path], list[Refusal]]:
    """A drop folder's files with one of `suffixes` that may be read, and those refused with why (hidden skipped)."""
    files, refused = [], []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        path = Path(folder) / entry.name
        if (
            entry.name.startswith((".", "~$"))
            or path.suffix.lower() not in suffixes
            or entry.is_dir(follow_symlinks=False)
        ):
            continue
        why = refusal(path, folder)
        if why:
            refused.append(Refusal(path, why))
        else:
            files.append(path)
    return files, refused
