"""A plain-table xlsx writer (bold frozen header, text cells) that builds each sheet's XML in Arrow, not per cell."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.crashpoint import pause_at
from tasks.intake.archive import new_temp

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_STYLES = (
    f'{_HEAD}<styleSheet xmlns="{_MAIN}"><fonts count="2"><font><sz val="11"/><name val="等线"/></font>'
    '<font><b/><sz val="11"/><name val="等线"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/>'
    '</fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/>'
    '<bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
    'borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs><cellStyles count="1">'
    '<cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)
# XML 1.0 has no place for these; Excel itself cannot hold them in a cell either.
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{FFFE}\x{FFFF}]"
# Excel reads _xHHHH_ in a string as an escaped character; its own escape for a literal underscore keeps it text.
_EXCEL_ESCAPE = r"_(x[0-9A-Fa-f]{4}_)"


@dataclass(frozen=True)
class Sheet:
    """One sheet: its name, the header text of each column, and the rows (one frame column per header, text)."""

    name: str
    headers: dict[str, str]
    frame: pd.DataFrame


def column_letter(n: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _lit(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())


def _text(values: pd.Series) -> pa.Array:
    filled = values.astype(object).where(values.notna(), "")
    try:
        arr = pa.array(filled, type=pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # numbers or other objects: written as their text
        arr = pa.array(filled.map(str), type=pa.large_string())
    arr = pc.replace_substring_regex(arr, _CONTROL, "")
    arr = pc.replace_substring_regex(arr, _EXCEL_ESCAPE, r"_x005F_\1")
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        arr = pc.replace_substring(arr, char, entity)
    return arr


def _cells(sheet: Sheet) -> tuple[bytes, list[int]]:
    """The data rows' XML, and each column's widest text in characters."""
    n = len(sheet.frame)
    numbers = pc.cast(pa.array(range(2, n + 2), type=pa.int64()), pa.large_string())
    parts, widths = [_lit('<row r="'), numbers, _lit('">')], []
    for i, column in enumerate(sheet.headers, start=1):
        text = _text(sheet.frame[column])
        widths.append(int(pc.max(pc.utf8_length(text)).as_py() or 0) if n else 0)
        cell = pc.binary_join_element_wise(
            _lit(f'<c r="{column_letter(i)}'),
            numbers,
            _lit('" t="inlineStr"><is><t xml:space="preserve">'),
            text,
            _lit("</t></is></c>"),
            _lit(""),
        )
        parts.append(pc.if_else(pc.equal(text, _lit("")), _lit(""), cell))
    parts.append(_lit("</row>"))
    rows = pc.binary_join_element_wise(*parts, _lit("")) if n else pa.array([], pa.large_string())
    return _concat(rows.combine_chunks() if isinstance(rows, pa.ChunkedArray) else rows), widths


def _concat(rows: pa.Array) -> bytes:
    """The strings of `rows` back to back: the slice of Arrow's data buffer they already occupy."""
    if len(rows) == 0:
        return b""
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset : rows.offset + len(rows) + 1]
    return rows.buffers()[2][offsets[0] : offsets[-1]].to_pybytes()


def _sheet_xml(sheet: Sheet) -> tuple[str, bytes, str]:
    body, widths = _cells(sheet)
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{min(60, max(len(h), w) * 2 + 2)}" customWidth="1"/>'
        for i, (h, w) in enumerate(zip(sheet.headers.values(), widths, strict=False), start=1)
    )
    header = "".join(
        f'<c r="{column_letter(i)}1" t="inlineStr" s="1"><is><t>{escape(h)}</t></is></c>'
        for i, h in enumerate(sheet.headers.values(), start=1)
    )
    head = (
        f'{_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData><row r="1">{header}</row>'
    )
    return head, body, "</sheetData></worksheet>"


def write_table_workbook(path: Path, sheets: Sequence[Sheet]) -> Path:
    """Write `sheets` to `path` (.xlsx); a sheet name holds at most 31 characters, as Excel requires."""
    names = [s.name for s in sheets]
    if len(set(names)) != len(names) or any(not 0 < len(n) <= 31 for n in names):
        raise ValueError(f"sheet names must be unique and 1-31 characters: {names}")
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT}.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    parts = {
        "[Content_Types].xml": f'{_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>{overrides}'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/></Types>',
        "_rels/.rels": f'{_HEAD}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        + "".join(f'<sheet name={quoteattr(n)} sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(names, start=1))
        + "</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": f'{_HEAD}<Relationships xmlns="{_PKG_REL}">'
        + "".join(
            f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        + f'<Relationship Id="rId{len(sheets) + 1}" Type="{_REL}/styles" Target="styles.xml"/></Relationships>',
        "xl/styles.xml": _STYLES,
    }
    # The archive's temp rule: 0600, named for host and pid, swept once its writer is dead (it holds names).
    fd, tmp = new_temp(path.parent)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for name, xml in parts.items():
                zf.writestr(name, xml)
            for i, sheet in enumerate(sheets, start=1):
                head, body, tail = _sheet_xml(sheet)
                with zf.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as out:
                    out.write(head.encode())
                    out.write(body)
                    out.write(tail.encode())
    except BaseException:
        os.unlink(tmp)
        raise
    pause_at("lists")
    os.replace(tmp, path)
    return path
