"""Audit a FUPIN_HOME after `make demo` (or in production): identity numbers, laborers' names and secrets found
outside the restricted table, the archive, the HR drop folder and the district lists. Exit 1 when anything is found."""
from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from pathlib import Path

from config import load_config
from tasks.pii_scan import Needles, district_lists, scan_outbox, scan_tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("home", type=Path, help="the FUPIN_HOME to audit (its warehouse.db must be SQLite)")
    args = parser.parse_args()
    home = args.home.resolve()
    cfg = load_config()
    conn = sqlite3.connect(f"file:{home / 'warehouse.db'}?mode=ro", uri=True)
    names = frozenset(r[0] for r in conn.execute("select distinct name from restricted_labor_person") if len(r[0]) == 3)
    conn.close()
    key_file = home / "secrets" / "pii.key"
    secrets = tuple(s for s in (os.environ.get("FUPIN_PII_KEY"), os.environ.get("FUPIN_SMTP_PASSWORD"),
                                key_file.read_text().strip() if key_file.exists() else None) if s)
    lists = list(home.glob("outputs/*/labor"))
    needles = Needles(names, secrets)
    skip = [home / "archive", home / "incoming", home / "secrets", home / "outbox", *lists]
    found = [f for f in scan_tree(home, needles, skip)
             if not f.where.startswith("warehouse.db:restricted_labor_person.")]
    allowed = {data: to for folder in lists for data, to in district_lists(cfg, folder).items()}
    found += scan_outbox(home / "outbox", needles, allowed)
    for f in found:
        print(f"{f.kind:<10} {f.sample:<22} {f.where}")
    print(f"{len(found)} finding(s) in {home} ({len(names)} names, {len(secrets)} secrets looked for)")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
