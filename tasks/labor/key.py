"""The PII key's fingerprint in the warehouse: the first key used is remembered, a different one is refused."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import IntegrityError

from contracts.identity import hmac_sha256
from core.errors import FupinError
from warehouse.schema import restricted_pii_key

PURPOSE = "labor_person"
_LABEL = b"fupin: fingerprint of the PII key for labor person keys, v1"


class KeyMismatch(FupinError):
    """The key is not the one the warehouse's person keys were made with."""

    exit_code = 2


def fingerprint(key: bytes) -> str:
    """HMAC of a fixed label under the key: equal keys give equal fingerprints, and it reveals nothing of the key."""
    return hmac_sha256(key)(_LABEL).hex()


def stored_fingerprint(conn: Connection) -> str | None:
    return conn.execute(
        select(restricted_pii_key.c.fingerprint).where(restricted_pii_key.c.purpose == PURPOSE)
    ).scalar_one_or_none()


def mismatch(found: str) -> KeyMismatch:
    return KeyMismatch(
        f"this PII key is not the one the warehouse's person keys were made with (stored fingerprint {found[:12]}…): "
        "use the original key, or change keys with `fupin rekey --new-key-file FILE` / "
        "身份证号加密密钥与仓库记录的不一致："
        "请使用原密钥，或用 `fupin rekey` 更换密钥"
    )


def require_key(engine: Engine, key: bytes) -> None:
    """Remember the key's fingerprint on first use; refuse a key whose fingerprint differs from the stored one."""
    mine = fingerprint(key)
    try:
        with engine.begin() as conn:
            found = stored_fingerprint(conn)
            if found is None:
                conn.execute(
                    restricted_pii_key.insert().values(
                        purpose=PURPOSE, fingerprint=mine, first_used_at=dt.datetime.now(dt.UTC)
                    )
                )
                return
    except IntegrityError:  # a concurrent first use stored its key first: compare with that one
        with engine.connect() as conn:
            found = stored_fingerprint(conn)
    if found != mine:
        raise mismatch(found or "")


def replace_fingerprint(conn: Connection, old: bytes, new: bytes) -> None:
    """Inside the re-keying transaction: the old key must be the stored one; the new one becomes it."""
    found = stored_fingerprint(conn)
    if found is not None and found != fingerprint(old):
        raise mismatch(found)
    now = dt.datetime.now(dt.UTC)
    if found is None:
        conn.execute(
            restricted_pii_key.insert().values(
                purpose=PURPOSE, fingerprint=fingerprint(new), first_used_at=now, rekeyed_at=now
            )
        )
    else:
        conn.execute(
            update(restricted_pii_key)
            .where(restricted_pii_key.c.purpose == PURPOSE)
            .values(fingerprint=fingerprint(new), rekeyed_at=now)
        )
