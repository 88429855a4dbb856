"""Write the report fixture workbooks (one per form, quirk and rule) generated from config/, with a manifest."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from config import load_config
from fupin.demo.report_fixtures import catalogue, write_fixture


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, nargs="?", default=Path("var/fixtures/reports"), help="folder to write into")
    args = parser.parse_args()
    cfg = load_config()
    manifest = []
    for fx in catalogue(cfg):
        path = write_fixture(cfg, fx, args.out)
        manifest.append({"file": path.name, "unit": fx.unit, "month": fx.month, "errors": fx.errors})
        print(f"{'rejected' if fx.errors else 'accepted':<9} {path.name}")
    (args.out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{len(manifest)} files in {args.out}")


if __name__ == "__main__":
    main()
