"""Find personal data and secrets where they must not be: files, workbooks, e-mails, SQLite tables under FUPIN_HOME."""
from __future__ import annotations

import email
import email.policy
import io
import re
import sqlite3
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from config import Config

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
                       r"(?![0-9A-Za-z])")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{3,}")
# A SQLite file's WAL and journal hold its own pages, restricted ones included: its tables are scanned instead.
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class Finding:
    """One leak: where (file, member or table.column) and what kind (id_number, name, secret)."""

    where: str
    kind: str
    sample: str


@dataclass(frozen=True)
class Needles:
    """What to look for: full names (3 characters, to avoid matching ordinary words) and secret values."""

    names: frozenset[str]
    secrets: tuple[str, ...]


def scan_text(text: str, where: str, needles: Needles) -> Iterator[Finding]:
    """Identity numbers, names and secrets in one text; samples are masked so a report never repeats the leak."""
    for m in ID_NUMBER.finditer(text):
        yield Finding(where, "id_number", m[0][:6] + "********" + m[0][-4:])
    if needles.names:
        for run in _CJK_RUN.findall(text):
            for i in range(len(run) - 2):
                if run[i:i + 3] in needles.names:
                    yield Finding(where, "name", run[i] + "**")
    for secret in needles.secrets:
        if secret and secret in text:
            yield Finding(where, "secret", secret[:2] + "…")


def texts_of_bytes(data: bytes, name: str) -> Iterator[tuple[str, str]]:
    """(where, text) for a file's content: zip members (xlsx) one by one, e-mail parts decoded, else the bytes."""
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for info in zf.infolist():
                    yield from texts_of_bytes(zf.read(info), f"{name}!{info.filename}")
            return
        except zipfile.BadZipFile:
            pass
    if name.endswith(".eml"):
        msg = email.message_from_bytes(data, policy=email.policy.default)
        yield f"{name}!headers", "\n".join(f"{k}: {v}" for k, v in msg.items())
        for n, part in enumerate(msg.walk()):
            payload = part.get_payload(decode=True)
            if payload:
                yield from texts_of_bytes(payload, f"{name}!part{n}:{part.get_filename() or part.get_content_type()}")
        return
    if data[:16] == b"SQLite format 3\x00":
        return
    yield name, data.decode("utf-8", errors="ignore")


def texts_of_sqlite(path: Path, skip_tables: Iterable[str] = ()) -> Iterator[tuple[str, str]]:
    """(table.column, text) for every column of every table of a SQLite file, read-only."""
    skip = set(skip_tables)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")]
        for table in tables:
            if table in skip:
                continue
            cols = [r[1] for r in conn.execute(f'pragma table_info("{table}")')]
            for col in cols:
                values = conn.execute(f'select "{col}" from "{table}" where "{col}" is not null').fetchall()
                yield f"{path.name}:{table}.{col}", "\n".join(
                    v[0].decode("utf-8", errors="ignore") if isinstance(v[0], bytes) else str(v[0]) for v in values)
    finally:
        conn.close()


def scan_tree(root: Path, needles: Needles, skip: Iterable[Path] = ()) -> list[Finding]:
    """Every file below `root` (SQLite files table by table), except the paths in `skip` and below them."""
    skipped = [Path(p).resolve() for p in skip]
    found: list[Finding] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        resolved = path.resolve()
        if any(resolved == s or s in resolved.parents for s in skipped) or path.name.endswith(_SQLITE_SIDE_FILES):
            continue
        where = str(path.relative_to(root))
        data = path.read_bytes()
        if data[:16] == b"SQLite format 3\x00":
            sources = texts_of_sqlite(path)
        else:
            sources = texts_of_bytes(data, where)
        for src, text in sources:
            found += scan_text(text, src, needles)
    return found


def scan_outbox(outbox: Path, needles: Needles, allowed: dict[bytes, set[str]]) -> list[Finding]:
    """Every .eml: subject and parts; an attachment in `allowed` (bytes -> recipients) is fine only to those."""
    found: list[Finding] = []
    for path in sorted(outbox.rglob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        found += scan_text(str(msg.get("Subject")), path.name, needles)
        for part in msg.walk():
            payload = part.get_payload(decode=True) or b""
            if payload in allowed:
                if not any(to in str(msg["To"]) for to in allowed[payload]):
                    found.append(Finding(f"{path.name}!{part.get_filename()}", "wrong_recipient", str(msg["To"])))
                continue
            for where, text in texts_of_bytes(payload, f"{path.name}!{part.get_filename()}"):
                found += scan_text(text, where, needles)
    return found


def district_lists(cfg: Config, lists_dir: Path) -> dict[bytes, set[str]]:
    """Each district list's bytes -> the e-mail of the district(s) it belongs to (empty lists can be identical)."""
    allowed: dict[bytes, set[str]] = {}
    for path in sorted(lists_dir.glob("*.xlsx")):
        for unit in cfg.districts:
            if unit.name in path.name:
                allowed.setdefault(path.read_bytes(), set()).add(unit.email)
    return allowed
