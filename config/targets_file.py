"""Enter a 2019 baseline in targets.yaml: one target's baseline_2019 rewritten in place, every other line (and every
comment) kept, the result checked by loading it back."""

from __future__ import annotations

import math
import os
import re
import tempfile
from pathlib import Path

import yaml

from config.model import Target

TARGETS_FILE = "targets.yaml"
_CODE = re.compile(r"^(\s*)-\s+code:\s*(\S+)\s*$")
_BASELINE = re.compile(r"^(\s*)baseline_2019:")


class TargetEditError(ValueError):
    """The target, concept or value asked for is not one the declaration allows."""


def read_targets(text: str) -> list[Target]:
    """The targets declared in targets.yaml's text."""
    return [Target(**{**t, "baseline_2019": t.get("baseline_2019") or {}}) for t in yaml.safe_load(text)["targets"]]


def _check(targets: list[Target], code: str, concept: str, value: float) -> Target:
    target = next((t for t in targets if t.code == code), None)
    if target is None:
        raise TargetEditError(f"未知目标 / unknown target {code!r}; known: {', '.join(t.code for t in targets)}")
    if target.kind != "at_least_baseline":
        raise TargetEditError(f"目标 {code} 不以2019年为基数 / target {code} has no 2019 baseline")
    if concept not in target.concepts:
        raise TargetEditError(
            f"目标 {code} 没有指标 {concept!r} / not a concept of {code}; declared: {', '.join(target.concepts)}"
        )
    if not math.isfinite(value) or value < 0:
        raise TargetEditError(f"基数须为非负数 / the baseline must be a number >= 0, not {value}")
    return target


def _indent(lines: list[str], start: int, at: int | None) -> str:
    """The indentation of the target's keys: its baseline_2019 line's, or two past its '- code:'."""
    found = _BASELINE.match(lines[at]) if at is not None else None
    if found:
        return found.group(1)
    code = _CODE.match(lines[start])
    return (code.group(1) if code else "") + "  "


def set_baseline(text: str, code: str, concept: str, value: float) -> str:
    """targets.yaml's text with `concept`'s 2019 baseline of target `code` set to `value` (validated)."""
    target = _check(read_targets(text), code, concept, value)
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if (m := _CODE.match(line)) and m.group(2) == code)
    end = next((i for i in range(start + 1, len(lines)) if _CODE.match(lines[i])), len(lines))
    at = next((i for i in range(start, end) if _BASELINE.match(lines[i])), None)
    figures = {**target.baseline_2019, concept: value}
    indent = _indent(lines, start, at)
    comment = lines[at].partition("#")[2].rstrip("\n") if at is not None else ""
    block = [f"{indent}baseline_2019:{'  #' + comment if comment else ''}\n"] + [
        f"{indent}  {name}: {int(v) if float(v).is_integer() else v}\n" for name, v in figures.items()
    ]
    if at is None:
        lines[end:end] = block
    else:
        stop = at + 1
        while stop < end and lines[stop].strip() and len(lines[stop]) - len(lines[stop].lstrip()) > len(indent):
            stop += 1
        lines[at:stop] = block
    new = "".join(lines)
    after = next(t for t in read_targets(new) if t.code == code)
    if after.baseline_2019 != figures:
        raise TargetEditError(f"targets.yaml could not be rewritten safely for {code}")  # pragma: no cover
    return new


def write_baseline(directory: Path, code: str, concept: str, value: float) -> Path:
    """Set the baseline in `directory`/targets.yaml, replacing the file at once (never half written)."""
    path = directory / TARGETS_FILE
    new = set_baseline(path.read_text(encoding="utf-8"), code, concept, value)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".targets.", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(new)
    os.chmod(tmp, path.stat().st_mode & 0o777)
    os.replace(tmp, path)
    return path
