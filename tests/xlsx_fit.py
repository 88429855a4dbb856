"""Checks shared by the workbook tests: every text cell fits its column (tasks/xlsx/width.py's rule), read back from
the file with openpyxl; and a PDF's pages, read with poppler."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tasks.xlsx.width import LINE_HEIGHT, PADDING, lines_needed, text_width

DEFAULT_WIDTH, DEFAULT_HEIGHT = 8.43, 15.0


def _width(ws: Worksheet, first: int, last: int) -> float:
    dims = ws.column_dimensions
    total = 0.0
    for c in range(first, last + 1):
        letter = get_column_letter(c)
        found = next((d for d in dims.values() if d.min and d.max and d.min <= c <= d.max and d.width), None)
        total += found.width if found else (dims[letter].width or DEFAULT_WIDTH)
    return total


def overflowing(ws: Worksheet) -> list[str]:
    """Text cells wider than their column (or merged span), or wrapped into more lines than their row is tall for."""
    spans = {(m.min_row, m.min_col): (m.min_col, m.max_col) for m in ws.merged_cells.ranges}
    bad = []
    for row in ws.iter_rows():
        for cell in row:
            if not isinstance(cell.value, str) or not cell.value:
                continue
            first, last = spans.get((cell.row, cell.column), (cell.column, cell.column))
            width = _width(ws, first, last)
            size = (cell.font.sz or 10) / 10
            height = ws.row_dimensions[cell.row].height or DEFAULT_HEIGHT
            custom = ws.row_dimensions[cell.row].height is not None
            room = max(1, int((height / size - 4 + 0.75) // LINE_HEIGHT)) if custom else 1
            if cell.alignment.wrap_text:
                if lines_needed(cell.value, width / size) > room:
                    bad.append(f"{ws.title}!{cell.coordinate} needs more height: {cell.value[:30]}")
            elif cell.value.count("\n") + 1 > room or text_width(cell.value) * size > width - PADDING:
                bad.append(f"{ws.title}!{cell.coordinate} wider than its column: {cell.value[:30]}")
    return bad


def pdf_pages(pdf: Path) -> list[str]:
    """Each page's text (pdftotext, layout kept)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def page_sizes(pdf: Path) -> list[tuple[float, float]]:
    """Each page's size in points (pdfinfo)."""
    out = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", out)]


def cell_column(ref: str) -> int:
    return column_index_from_string(re.sub(r"\d", "", ref))
