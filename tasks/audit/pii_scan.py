"""Find personal data and secrets where they must not be: files, workbooks, e-mails, SQLite tables under FUPIN_HOME,
Prefect's database and stored results (base64, compressed and pickled payloads decoded)."""

from __future__ import annotations

import email
import email.policy
import io
import json
import re
import sqlite3
import stat
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from sqlalchemy import JSON, Engine, LargeBinary, MetaData, String, select

from config import Config
from contracts.identity import check_char
from tasks.audit.pii_decode import PACKED, decoded_texts

ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
    r"(?![0-9A-Za-z])"
)
# Inside a packed buffer values touch each other: an 18-character run counts only with a valid check character.
_PACKED_ID = re.compile(r"[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{3,}")
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")  # the stream's name in the compound file's directory
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
    ids = (
        ID_NUMBER.finditer(text)
        if not where.endswith(PACKED)
        else (m for m in _PACKED_ID.finditer(text) if check_char(m[0][:17]) == m[0][17].upper())
    )
    for m in ids:
        yield Finding(where, "id_number", m[0][:6] + "********" + m[0][-4:])
    if needles.names:
        for run in _CJK_RUN.findall(text):
            for i in range(len(run) - 2):
                if run[i : i + 3] in needles.names:
                    yield Finding(where, "name", run[i] + "**")
    for secret in needles.secrets:
        if secret and secret in text:
            yield Finding(where, "secret", secret[:2] + "…")


def encrypted_office(data: bytes) -> bool:
    """An encrypted Office file (ECMA-376: a compound file holding an EncryptionInfo stream): opaque without its
    password, which never travels with it, so nothing in it can be read and nothing is reported."""
    return data[:8] == _CFB_MAGIC and _ENCRYPTION_INFO in data


def texts_of_bytes(data: bytes, name: str) -> Iterator[tuple[str, str]]:
    """(where, text) for a file's content: zip members (xlsx) one by one, e-mail parts decoded, encrypted Office
    files not at all, else the bytes."""
    if encrypted_office(data):
        return
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
            # decode=True yields bytes, or None for a multipart; typeshed also allows a Message
            payload = cast("bytes | None", part.get_payload(decode=True))
            if payload:
                yield from texts_of_bytes(payload, f"{name}!part{n}:{part.get_filename() or part.get_content_type()}")
        return
    if data[:16] == b"SQLite format 3\x00":
        return
    yield from decoded_texts(data, name)


def texts_of_values(values: Iterable[object], where: str) -> Iterator[tuple[str, str]]:
    """(where, text) for one column's values: texts together, each blob or JSON value decoded on its own."""
    texts: list[str] = []
    for value in values:
        if isinstance(value, (bytes, bytearray, memoryview)):
            yield from decoded_texts(bytes(value), where)
        elif isinstance(value, (dict, list)):
            texts.append(json.dumps(value, ensure_ascii=False, default=str))
        else:
            texts.append(str(value))
    if texts:  # " \n" ends a base64 run, so two values are never decoded as one
        yield from decoded_texts(" \n".join(texts).encode("utf-8", errors="surrogatepass"), where)


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
                values = conn.execute(f'select "{col}" from "{table}" where "{col}" is not null')
                yield from texts_of_values((v[0] for v in values), f"{path.name}:{table}.{col}")
    finally:
        conn.close()


def texts_of_database(engine: Engine) -> Iterator[tuple[str, str]]:
    """(schema.table.column, text) for each text, JSON and binary column of every table (e.g. Prefect on PostgreSQL)."""
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            for col in table.columns:
                if isinstance(col.type, (String, JSON, LargeBinary)):
                    values = (
                        conn.execution_options(stream_results=True)
                        .execute(select(col).where(col.is_not(None)))
                        .scalars()
                    )
                    yield from texts_of_values(values, f"{engine.url.database}:{table.name}.{col.name}")


def scan_tree(
    root: Path, needles: Needles, skip: Iterable[Path] = (), skip_tables: Iterable[str] = ()
) -> list[Finding]:
    """Every file below `root` (SQLite files table by table), except the paths in `skip` and below them.

    `skip_tables` names allowed tables as "relative/path.db:table" (the warehouse's restricted table).
    """
    skipped = [Path(p).resolve() for p in skip]
    tables = [t.split(":", 1) for t in skip_tables]
    found: list[Finding] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        resolved = path.resolve()
        if any(resolved == s or s in resolved.parents for s in skipped) or path.name.endswith(_SQLITE_SIDE_FILES):
            continue
        where = str(path.relative_to(root))
        data = path.read_bytes()
        if data[:16] == b"SQLite format 3\x00":
            sources = texts_of_sqlite(path, [t for db, t in tables if db == where])
        else:
            sources = texts_of_bytes(data, where)
        for src, text in sources:
            found += scan_text(text, src, needles)
    return found


def exposed(path: Path, home: Path) -> bool:
    """Whether a user other than the owner can read `path`: the file and every folder from `home` down let them."""
    mode = path.stat().st_mode
    if not mode & (stat.S_IRGRP | stat.S_IROTH):
        return False
    classes = [(stat.S_IRGRP, stat.S_IXGRP), (stat.S_IROTH, stat.S_IXOTH)]
    folders = [home, *[p for p in path.parents if home in p.parents]]
    return any(mode & read and all(f.stat().st_mode & search for f in folders) for read, search in classes)


def scan_lists(cfg: Config, lists_dir: Path, home: Path, needles: Needles) -> tuple[list[Finding], list[str]]:
    """The district-lists folder: findings and notes.

    A district list may hold its people only where no one but the owner can read it. Any other file there holding
    names or numbers (a leftover `.tmp*` from a killed write) is a finding when others can read it, and a note when
    it is owner-only (the next list write sweeps it).
    """
    lists = {p for data_paths in _list_paths(cfg, lists_dir).values() for p in data_paths}
    found: list[Finding] = []
    notes: list[str] = []
    for path in sorted(p for p in lists_dir.rglob("*") if p.is_file()):
        where = str(path.relative_to(home))
        if path in lists:
            if exposed(path, home):
                found.append(Finding(where, "readable_by_others", oct(path.stat().st_mode & 0o777)))
            continue
        leaks = [f for src, text in texts_of_bytes(path.read_bytes(), where) for f in scan_text(text, src, needles)]
        if leaks and exposed(path, home):
            found += leaks
        elif leaks:
            notes.append(f"{where}: owner-only leftover holding {len(leaks)} name(s)/number(s)")
    return found, notes


def scan_outbox(outbox: Path, needles: Needles) -> list[Finding]:
    """Every .eml: headers and every part, attachments decoded. No e-mail may carry a name or an identity number,
    a district's own list included: a plain list is a finding, one encrypted with its password is not."""
    found: list[Finding] = []
    for path in sorted(outbox.rglob("*.eml")):
        for where, text in texts_of_bytes(path.read_bytes(), path.name):
            found += scan_text(text, where, needles)
    return found


def _list_paths(cfg: Config, lists_dir: Path) -> dict[str, list[Path]]:
    """Each district's e-mail -> its list files in `lists_dir` (a district's name in a .xlsx file name)."""
    out: dict[str, list[Path]] = {}
    for path in sorted(lists_dir.glob("*.xlsx")):
        for unit in cfg.districts:
            if unit.name in path.name:
                out.setdefault(unit.email, []).append(path)
    return out
