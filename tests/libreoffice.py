"""LibreOffice, headless, as the tests use it to prove that a workbook we write opens and reads back."""

from __future__ import annotations

import subprocess
from pathlib import Path

CSV_UTF8 = "csv:Text - txt - csv (StarCalc):44,34,76"  # comma, double quote, UTF-8


def convert(src: Path, to: str, outdir: Path, profile: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`soffice --convert-to TO` into `outdir`, with its own profile folder so parallel runs never share one."""
    args = ["soffice", "--headless"]
    if profile is not None:
        args.append(f"-env:UserInstallation=file://{profile}")
    args += ["--convert-to", to, "--outdir", str(outdir), str(src)]
    return subprocess.run(args, capture_output=True, text=True, timeout=180, check=False)
