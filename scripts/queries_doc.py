"""Write docs/queries.md's answer tables from the `make demo` month: the demo runs into a temporary FUPIN_HOME, then
every query runs on its warehouse. --check says whether the committed tables are still those (exit 1 if not).

Usage: python scripts/queries_doc.py [--check] [--home DIR]   (--home: a demo's FUPIN_HOME already made, reused)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "queries.md"
sys.path[:0] = [str(ROOT)]  # run as a script, the repository's packages are importable too

from tasks.analyst.queries import with_answers  # noqa: E402
from warehouse.engine import make_engine  # noqa: E402

# The demo's defaults, whatever the caller's environment says: its own SQLite warehouse and Prefect home.
FOREIGN = ("FUPIN_", "PREFECT_")


def run_demo(home: Path) -> Path:
    """`make demo` into `home` (not interactive, so the platform is not served); returns its warehouse file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}
    env.update({"FUPIN_HOME": str(home), "CI": "true"})
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return home / "warehouse.db"


def regenerated(warehouse: Path, markdown: str) -> str:
    engine = make_engine(f"sqlite:///{warehouse}")
    try:
        return with_answers(markdown, engine)
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed tables, write nothing")
    parser.add_argument("--home", type=Path, help="a demo's FUPIN_HOME to read instead of running the demo")
    args = parser.parse_args()
    current = DOC.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = args.home / "warehouse.db" if args.home else run_demo(Path(tmp) / "home")
        fresh = regenerated(warehouse, current)
    if args.check:
        same = fresh == current
        sys.stdout.write("docs/queries.md matches the demo\n" if same else "docs/queries.md differs from the demo\n")
        return 0 if same else 1
    DOC.write_text(fresh, encoding="utf-8")
    sys.stdout.write(f"wrote the answers of {DOC.relative_to(ROOT)} from the demo month\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
