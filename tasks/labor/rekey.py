"""Re-key every stored person under a new PII key, in one transaction, from the archived files' own numbers.

The warehouse keeps no identity number, only its HMAC, so a new key needs the numbers again: each accepted labor
file is read back from the archive, every stored row's key is checked against the old key (proving both the key and
the file), and the rows are rewritten with the new key. Any mismatch rolls everything back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, and_, select

from config import Config
from contracts.identity import normalize_ids, person_keys
from core.errors import FupinError
from tasks.labor.key import replace_fingerprint
from tasks.labor.read import read_labor
from warehouse.bulk import insert_frames
from warehouse.schema import fct_submission as sub
from warehouse.schema import restricted_labor_person as rlp


@dataclass(frozen=True)
class Rekeyed:
    submissions: int
    persons: int


def _stored(conn: Connection, sid: int) -> pd.DataFrame:
    columns = list(rlp.c.keys())
    rows = conn.execute(select(rlp).where(rlp.c.submission_id == sid)).tuples().all()
    return pd.DataFrame(rows, columns=columns)


def _new_keys(stored: pd.DataFrame, archived: Path, name: str, cfg: Config, old: bytes, new: bytes) -> pd.Series:
    """The new key of each stored row, after checking its old key against the archived file's number at that row."""
    frame = read_labor(archived, cfg, name)
    ids = pd.Series(normalize_ids(frame["id_number"]).to_numpy(), index=frame["source_row"].to_numpy())
    at_rows = ids.reindex(stored["source_row"].to_numpy())
    if at_rows.isna().any() or not np.array_equal(
        person_keys(at_rows.fillna(""), old).to_numpy(), stored["person_key"].map(bytes).to_numpy()
    ):
        raise FupinError(
            f"{name}: the archived file does not give the stored person keys under the old key; nothing "
            "was changed / 旧密钥或归档文件与仓库不符，未做任何更改"
        )
    return pd.Series(person_keys(at_rows, new).to_numpy(), index=stored.index)


def rekey(engine: Engine, cfg: Config, home: Path, old: bytes, new: bytes) -> Rekeyed:
    """Replace every person key made with `old` by one made with `new`, and the stored fingerprint, atomically."""
    if old == new:
        raise FupinError("the new key is the old key / 新旧密钥相同")
    persons = 0
    with engine.begin() as conn:
        replace_fingerprint(conn, old, new)
        keyed = select(sub.c.submission_id, sub.c.archive_path, sub.c.original_name).where(
            and_(sub.c.kind == "labor", sub.c.submission_id.in_(select(rlp.c.submission_id).distinct()))
        )
        files = conn.execute(keyed.order_by(sub.c.submission_id)).all()
        for sid, archive_path, name in files:
            stored = _stored(conn, sid)
            stored["person_key"] = _new_keys(stored, home / archive_path, name, cfg, old, new)
            conn.execute(rlp.delete().where(rlp.c.submission_id == sid))
            insert_frames(conn, rlp, list(rlp.c.keys()), [stored])
            persons += len(stored)
    return Rekeyed(len(files), persons)
