"""Write every hostile or broken file of issue 8 into a folder, with a manifest of the rule expected to refuse each."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from config import load_config
from fupin.demo.bad_files import make_all
from fupin.demo.bad_files_arrival import arrival_files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, help="folder to write into (created if missing)")
    parser.add_argument(
        "--no-bombs",
        action="store_true",
        help="skip the decompression bombs (two 1.1 GB sheets, a 1.5 GB shared-strings part) and the sparse 1 GB file",
    )
    args = parser.parse_args()
    cfg = load_config()
    files = make_all(cfg, args.out, with_bombs=not args.no_bombs) + arrival_files(cfg, args.out, not args.no_bombs)
    manifest = args.out / "manifest.json"
    manifest.write_text(json.dumps([asdict(f) for f in files], ensure_ascii=False, indent=1), encoding="utf-8")
    for f in files:
        print(f"{f.rule or 'accepted':<18} {f.kind:<7} {f.name}  ({f.what})")
    print(f"{len(files)} files in {args.out}; manifest {manifest.name}")


if __name__ == "__main__":
    main()
