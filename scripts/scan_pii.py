"""Audit a FUPIN_HOME after `make demo` (or in production): identity numbers, laborers' names and secrets found
outside the restricted table, the archive, the HR drop folder and the (owner-only) district lists. Prefect's
database and its stored results are read too, base64, compressed and pickled payloads decoded. Exit 1 when anything
is found.

Prefect's places come from PREFECT_HOME (default FUPIN_HOME/prefect), PREFECT_LOCAL_STORAGE_PATH (default
PREFECT_HOME/storage) and PREFECT_API_DATABASE_CONNECTION_URL (default the SQLite file PREFECT_HOME/prefect.db).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from config import load_config
from tasks.audit.pii_scan import (
    Finding,
    Needles,
    scan_lists,
    scan_outbox,
    scan_text,
    scan_tree,
    texts_of_database,
    texts_of_sqlite,
)

RESTRICTED_TABLE = "warehouse.db:restricted_labor_person"


def needles_of(home: Path) -> Needles:
    """The laborers' 3-character names from the restricted table, and the secrets this home was run with."""
    conn = sqlite3.connect(f"file:{home / 'warehouse.db'}?mode=ro", uri=True)
    names = frozenset(r[0] for r in conn.execute("select distinct name from restricted_labor_person") if len(r[0]) == 3)
    conn.close()
    key_file = home / "secrets" / "pii.key"
    secrets = tuple(
        s
        for s in (
            os.environ.get("FUPIN_PII_KEY"),
            os.environ.get("FUPIN_SMTP_PASSWORD"),
            key_file.read_text().strip() if key_file.exists() else None,
        )
        if s
    )
    return Needles(names, secrets)


def prefect_places(home: Path) -> tuple[list[Path], str]:
    """Prefect's folders that lie outside `home` (those inside are scanned with it) and its database URL."""
    prefect_home = Path(os.environ.get("PREFECT_HOME") or home / "prefect").expanduser().resolve()
    storage = Path(os.environ.get("PREFECT_LOCAL_STORAGE_PATH") or prefect_home / "storage").expanduser().resolve()
    url = os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL") or f"sqlite:///{prefect_home / 'prefect.db'}"
    outside = [p for p in (prefect_home, storage) if p.is_dir() and home not in (p, *p.parents)]
    return [p for p in outside if not any(q in p.parents for q in outside)], url


def scan_prefect_database(url: str, home: Path, needles: Needles) -> list[Finding]:
    """Prefect's database when it is not a file under `home`: a SQLite file elsewhere, or PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "").expanduser().resolve()
        if not path.is_file() or home in path.parents:
            return []
        sources = texts_of_sqlite(path)
    else:
        engine = create_engine(parsed.set(drivername=f"{parsed.get_backend_name()}+psycopg"))
        sources = texts_of_database(engine)
    return [f for where, text in sources for f in scan_text(text, f"prefect-db:{where}", needles)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("home", type=Path, help="the FUPIN_HOME to audit (its warehouse.db must be SQLite)")
    args = parser.parse_args()
    started = time.monotonic()
    home = args.home.resolve()
    cfg = load_config()
    needles = needles_of(home)
    lists = list(home.glob("outputs/*/labor"))
    skip = [home / "archive", home / "incoming", home / "secrets", home / "outbox", *lists]
    found = scan_tree(home, needles, skip, skip_tables=[RESTRICTED_TABLE])
    notes: list[str] = []
    for folder in lists:
        leaks, said = scan_lists(cfg, folder, home, needles)
        found += leaks
        notes += said
    found += scan_outbox(home / "outbox", needles)
    outside, prefect_db = prefect_places(home)
    for root in outside:
        found += [Finding(f"{root.name}/{f.where}", f.kind, f.sample) for f in scan_tree(root, needles)]
    found += scan_prefect_database(prefect_db, home, needles)
    for f in found:
        print(f"{f.kind:<18} {f.sample:<22} {f.where}")
    for note in notes:
        print(f"note: {note}")
    print(
        f"{len(found)} finding(s) in {home} and Prefect's database ({len(needles.names)} names, "
        f"{len(needles.secrets)} secrets looked for) in {time.monotonic() - started:.1f} s"
    )
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
