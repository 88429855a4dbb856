"""Where a file came from, as the pipeline saw it: the inbox folder it was found in, or the OS user who ran us."""

from __future__ import annotations

import os
import pwd
from collections.abc import Collection
from pathlib import Path

from tasks.intake.received import display_name
from tasks.intake.settle import inbox_parts

INBOX = "inbox:"
CLI = "cli:"


def os_user() -> str:
    """The login name of the process's real user id (from the password database, not from $USER)."""
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"uid {os.getuid()}"


def cli_source() -> str:
    """`cli:<OS user>`, for a file given on the command line."""
    return CLI + os_user()


def _under_inbox(path: Path, inbox: Path) -> Path | None:
    """The path under the inbox, read as where the unit dropped it (a processed file in done/ or rejected/ too)."""
    parts = inbox_parts(path, inbox)
    return None if parts is None else Path(*parts)


def inbox_source(path: Path, inbox: Path) -> str | None:
    """`inbox:<path under the inbox>` when the file lies in the inbox, else None."""
    rel = _under_inbox(path, inbox)
    # A GBK name from a Windows share arrives as surrogate escapes, which no database can store: record it as text.
    return None if rel is None else INBOX + "/".join(display_name(os.fsencode(part)) for part in rel.parts)


def folder_unit(path: Path, inbox: Path) -> str | None:
    """The folder name when the file lies in a sub-folder of the inbox (`inbox/<unit code>/<file>`), else None."""
    rel = _under_inbox(path, inbox)
    return rel.parts[0] if rel is not None and len(rel.parts) == 2 else None


def source_folder(source: str | None) -> str | None:
    """The inbox sub-folder a recorded source names (`inbox:<folder>/<file>`), else None."""
    if not source or not source.startswith(INBOX):
        return None
    parts = source[len(INBOX) :].split("/")
    return parts[0] if len(parts) == 2 else None


def unit_folders(inbox: Path, unit_codes: Collection[str]) -> list[Path]:
    """Each unit's own folder in the inbox (`inbox/<unit code>/`); other folders are not looked into, and a linked
    folder is never followed."""
    return [
        entry
        for entry in sorted(Path(inbox).iterdir())
        if entry.name in unit_codes and entry.is_dir() and not entry.is_symlink()
    ]
