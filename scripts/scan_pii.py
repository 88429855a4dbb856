"""Audit a FUPIN_HOME after `make demo` (or in production): identity numbers, laborers' names and secrets found
outside the restricted table, the archive, the HR drop folder and the district lists. Exit 1 when anything is found."""
from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from pathlib import Path

from tasks.pii_scan import Needles, scan_tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("home", type=Path, help="the FUPIN_HOME to audit (its warehouse.db must be SQLite)")
    args = parser.parse_args()
    home = args.home.resolve()
    conn = sqlite3.connect(f"file:{home / 'warehouse.db'}?mode=ro", uri=True)
    names = frozenset(r[0] for r in conn.execute("select distinct name from restricted_labor_person") if len(r[0]) == 3)
    conn.close()
    key_file = home / "secrets" / "pii.key"
    secrets = tuple(s for s in (os.environ.get("FUPIN_PII_KEY"), os.environ.get("FUPIN_SMTP_PASSWORD"),
                                key_file.read_text().strip() if key_file.exists() else None) if s)
    skip = [home / "archive", home / "incoming", home / "secrets", *home.glob("outputs/*/labor")]
    found = [f for f in scan_tree(home, Needles(names, secrets), skip)
             if not f.where.startswith("warehouse.db:restricted_labor_person.")]
    for f in found:
        print(f"{f.kind:<10} {f.sample:<22} {f.where}")
    print(f"{len(found)} finding(s) in {home} ({len(names)} names, {len(secrets)} secrets looked for)")
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
