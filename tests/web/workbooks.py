"""Real report workbooks for the platform's tests: a unit's valid report, and one with a wrong 合计."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from openpyxl import load_workbook

from config import Config
from fupin.demo.report_fixtures import cell
from fupin.demo.reports import write_filled_report
from tests.web.conftest import MONTH


def valid(cfg: Config, unit: str, folder: Path, seed: int = 0, name: str | None = None) -> bytes:
    path = write_filled_report(cfg, cfg.unit(unit), MONTH, folder / (name or f"{unit}-{seed}.xlsx"), seed=seed)
    return path.read_bytes()


def wrong_total(cfg: Config, unit: str, folder: Path, row_no: int = 1) -> tuple[bytes, str]:
    """The unit's report with the 合计 of `row_no` one more than the sum of its regions; and that cell's address."""
    address = cell(cfg, unit, row_no, cfg.total_column)
    wb = load_workbook(io.BytesIO(valid(cfg, unit, folder)))
    ws = wb[cfg.unit(unit).form_code]
    ws[address] = (ws[address].value or 0) + 1
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), address


def zip_bomb() -> bytes:
    """A tiny 'workbook' whose one part inflates a thousandfold: the safety guard's business, not a reader's."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (8 << 20))
    return out.getvalue()
