"""Where a processed inbox file goes: inbox/done/ when accepted, inbox/rejected/ otherwise, its unit folder kept."""

from __future__ import annotations

import os
from pathlib import Path

DONE = "done"
REJECTED = "rejected"
SETTLED = (DONE, REJECTED)


def inbox_parts(path: Path, inbox: Path) -> tuple[str, ...] | None:
    """The path's parts under the inbox without a leading done/ or rejected/, or None when it lies elsewhere."""
    try:
        rel = path.parent.resolve().joinpath(path.name).relative_to(inbox.resolve())
    except ValueError:
        return None
    parts = rel.parts
    return parts[1:] if len(parts) > 1 and parts[0] in SETTLED else parts


def _free(target: Path) -> Path:
    """`target`, or `name.2.xlsx`, `name.3.xlsx` … when a unit sent another file under the same name."""
    candidate, n = target, 1
    while os.path.lexists(candidate):
        n += 1
        candidate = target.with_name(f"{target.stem}.{n}{target.suffix}")
    return candidate


def settle_file(path: Path, inbox: Path, accepted: bool) -> Path:
    """Move a file found in the inbox out of the way of the next sweep; a file from elsewhere stays where it is."""
    parts = inbox_parts(path, inbox)
    if parts is None:
        return path
    folder = inbox / (DONE if accepted else REJECTED)
    target = folder.joinpath(*parts)
    if target.parent.resolve() == path.parent.resolve() and target.name == path.name:
        return path
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = _free(target)
    os.replace(path, target)
    if target.stat().st_uid == os.getuid():
        target.chmod(0o600)  # once ours, it is private like everything under FUPIN_HOME, whatever the sender's umask
    return target
