"""District labor lists as e-mail attachments, for when the platform is switched off: each list encrypted (ECMA-376
Agile, as Excel does) with its district's own password. The passwords are kept owner-only under FUPIN_HOME/secrets/
and given to each district by telephone, never by e-mail (`fupin list-passwords` prints them)."""

from __future__ import annotations

import fcntl
import io
import json
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from msoffcrypto.format.ooxml import OOXMLFile

PASSWORD_FILE = "labor-list-passwords.json"
# Read aloud over the telephone: no 0/O, 1/I/L, and groups of four.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
GROUPS, GROUP_LEN = 4, 4


def new_password() -> str:
    """A random password like 'K7QM-2XPA-9RTE-WH4N' (about 79 bits)."""
    chars = [secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LEN)]
    return "-".join("".join(chars[i : i + GROUP_LEN]) for i in range(0, len(chars), GROUP_LEN))


def _write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` as a 0600 file, atomically (a new file, then renamed over the old)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def list_passwords(secrets_dir: Path, district_codes: Sequence[str]) -> dict[str, str]:
    """Each district's password (district code -> password), made once and kept in secrets_dir (0600, folder 0700).

    Two runs asking at once get the same passwords (a lock file serialises the first creation)."""
    secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = secrets_dir / PASSWORD_FILE
    lock_fd = os.open(secrets_dir / f".{PASSWORD_FILE}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        kept: dict[str, str] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        missing = [code for code in district_codes if code not in kept]
        if missing:
            kept |= {code: new_password() for code in missing}
            _write_private(path, json.dumps(kept, ensure_ascii=False, indent=1, sort_keys=True).encode())
    finally:
        os.close(lock_fd)  # closing releases the lock
    return {code: kept[code] for code in district_codes}


def encrypt_xlsx(data: bytes, password: str) -> bytes:
    """The workbook encrypted with `password` (ECMA-376 Agile: AES-256, SHA-512), as Excel writes one."""
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()
