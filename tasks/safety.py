"""Pre-parse guard: sniff what a received file really is; refuse hostile or broken ones before any reader opens it."""
from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from typing import TYPE_CHECKING

from fupin.errors import FupinError
from tasks.xml_scan import TAIL, blocks, count_tags, may_reach_far, odd_syntax, scratch

if TYPE_CHECKING:
    import numpy as np

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_DIMENSION = re.compile(rb'<(?:[\w.-]+:)?dimension\s+ref\s*=\s*["\']([A-Z]{1,3})?(\d+)?(?::([A-Z]{1,3})(\d+))?["\']')
# Only references that could break a limit are matched (two- or three-letter columns; rows with as many digits as the
# limit); limits are far above 26 columns.
_WIDE_REF = re.compile(rb' r="([A-Z]{2,3})\d')
_ROW_TAG = b"<row"
_CELL_TAG = b"<c"
# Spellings XML allows that the fast scan does not see (single quotes, blanks around "=", a tab or line break before
# r, a namespace prefix): a block holding any of them is also read with these general patterns, slower but exact.
_ANY_REF = re.compile(rb'\sr\s*=\s*["\']\s*([A-Z]{0,3})(\d*)')
_PREFIXED_ROW = re.compile(rb"<[\w.-]+:row[\s/>]")
_PREFIXED_CELL = re.compile(rb"<[\w.-]+:c[\s/>]")
_CHUNK = 1 << 20
# Inflate in 64 KB steps: malloc reuses buffers this small, while 1 MB ones came back as fresh pages (+50% time).
_STEP = 1 << 16


class UnsafeFileError(FupinError):
    """A received file refused before parsing; the message says why in Chinese and English."""

    def __init__(self, rule: str, zh: str, en: str, member: str | None = None) -> None:
        self.rule, self.zh, self.en, self.member = rule, zh, en, member
        super().__init__(f"{zh} / {en}")


@dataclass(frozen=True)
class Limits:
    """How big a received file may be, checked from the zip directory and a capped streaming pass."""

    max_file_bytes: int
    max_members: int
    max_member_bytes: int
    max_total_bytes: int
    max_ratio: float
    max_rows: int
    max_cols: int
    max_cells: int


# A report form has at most ~60 rows and 11 columns; these leave room for notes, extra sheets and old copies.
REPORT_LIMITS = Limits(max_file_bytes=20 << 20, max_members=500, max_member_bytes=64 << 20,
                       max_total_bytes=128 << 20, max_ratio=200.0, max_rows=5_000, max_cols=200,
                       max_cells=200_000)
# The HR export holds ~330k people x ~10 columns; Excel's own ceiling is 1,048,576 rows. A reader holds every cell
# of the grid in memory, so cells are capped as well as rows and columns.
LABOR_LIMITS = Limits(max_file_bytes=300 << 20, max_members=500, max_member_bytes=768 << 20,
                      max_total_bytes=800 << 20, max_ratio=200.0, max_rows=1_048_576, max_cols=200,
                      max_cells=20_000_000)


@dataclass(frozen=True)
class Verdict:
    """What the file is (xlsx, xlsm, xls, ods, csv) and notes worth keeping (e.g. macros ignored)."""

    kind: str
    notes: tuple[str, ...] = ()


def _number(digits: bytes) -> int:
    """A row number as written; past 18 digits it is over every limit anyway (and int() refuses 4,300+ digits)."""
    return int(digits) if len(digits) <= 18 else 10 ** 18


def column_number(letters: bytes | str) -> int:
    text = letters.decode() if isinstance(letters, bytes) else letters
    n = 0
    for ch in text:
        n = n * 26 + ord(ch) - 64
    return n


def check_file(data: bytes, suffix: str, limits: Limits = REPORT_LIMITS) -> Verdict:
    """Refuse (UnsafeFileError) anything that is not a workbook/CSV within `limits`; never loads a sheet."""
    suffix = suffix.lower()
    if not data:
        raise UnsafeFileError("empty_file", "文件为空（0 字节）", "the file is empty (0 bytes)")
    if len(data) > limits.max_file_bytes:
        raise UnsafeFileError("file_too_large", f"文件过大（{len(data) >> 20} MB，上限 {limits.max_file_bytes >> 20} MB）",
                              f"file too large ({len(data) >> 20} MB, limit {limits.max_file_bytes >> 20} MB)")
    if data.startswith(b"%PDF"):
        raise UnsafeFileError("not_a_workbook", "这是 PDF 文件，不是 Excel 表格，请提交 .xlsx",
                              "this is a PDF, not a workbook: send the .xlsx")
    if data.startswith(OLE2_MAGIC):
        return _check_ole2(data, suffix)
    if data.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        return _check_zip(data, suffix, limits)
    if suffix in (".csv", ".txt"):
        return Verdict("csv")
    raise UnsafeFileError("not_a_workbook", f"文件内容不是 Excel 表格（扩展名 {suffix or '无'}）",
                          f"the content is not a workbook (extension {suffix or 'none'})")


def _check_ole2(data: bytes, suffix: str) -> Verdict:
    if _ENCRYPTED_STREAM in data:
        raise UnsafeFileError("encrypted", "工作簿设置了打开密码（已加密），请取消密码后重新提交",
                              "the workbook is password-protected (encrypted): remove the password and send it again")
    if suffix != ".xls":
        raise UnsafeFileError("renamed_xls", f"这是旧版 .xls（或 .doc）文件，却以 {suffix} 命名：请另存为 .xlsx",
                              f"this is an old .xls (or .doc) file named {suffix}: save it as .xlsx")
    return Verdict("xls")


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _damaged(str(exc)) from exc


def _damaged(detail: str) -> UnsafeFileError:
    return UnsafeFileError("damaged_zip", "文件已损坏或不完整（可能上传中断），请重新保存后提交",
                           f"the file is damaged or truncated (upload interrupted?): {detail}")


def _check_zip(data: bytes, suffix: str, limits: Limits) -> Verdict:
    with _open_zip(data) as zf:
        infos = zf.infolist()
        names = {i.filename for i in infos}
        kind = _ooxml_kind(names, suffix)
        _check_directory(infos, limits)
        for info in infos:
            if _is_sheet(info.filename, kind):
                _stream_sheet(data, info, limits)
    notes = ("宏（vbaProject）已忽略，只读取数值 / macros ignored: values only, nothing executed",) \
        if "xl/vbaProject.bin" in names else ()
    return Verdict("xlsm" if notes else kind, notes)


def _ooxml_kind(names: set[str], suffix: str) -> str:
    if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        return "xlsb" if "xl/workbook.bin" in names else "xlsx"
    if "content.xml" in names and suffix == ".ods":
        return "ods"
    if "word/document.xml" in names:
        raise UnsafeFileError("not_a_workbook", "这是 Word 文档（.docx），不是 Excel 表格",
                              "this is a Word document (.docx) renamed, not a workbook")
    if any(n.startswith("ppt/") for n in names):
        raise UnsafeFileError("not_a_workbook", "这是 PowerPoint 文件，不是 Excel 表格",
                              "this is a PowerPoint file renamed, not a workbook")
    raise UnsafeFileError("not_a_workbook", "压缩包里没有 Excel 工作簿", "a zip archive without a workbook inside")


def _check_directory(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Sizes as the central directory declares them; the streaming pass below catches a directory that lies."""
    if len(infos) > limits.max_members:
        raise UnsafeFileError("too_many_members", f"文件内部条目过多（{len(infos)}）",
                              f"too many parts inside the file ({len(infos)} > {limits.max_members})")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise UnsafeFileError("encrypted", "文件内容已加密", "a part of the file is encrypted", info.filename)
        total += info.file_size
        if info.file_size > limits.max_member_bytes:
            raise _too_big(info.filename, info.file_size, limits.max_member_bytes)
        if info.file_size > _CHUNK and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise UnsafeFileError("compression_ratio", f"{info.filename} 压缩比异常（疑似压缩炸弹）",
                                  f"{info.filename} expands {info.file_size // max(info.compress_size, 1)}x "
                                  f"(limit {limits.max_ratio:.0f}x): a decompression bomb?", info.filename)
    if total > limits.max_total_bytes:
        raise _too_big("(all parts)", total, limits.max_total_bytes)


def _too_big(member: str, size: int, limit: int) -> UnsafeFileError:
    return UnsafeFileError("uncompressed_size", f"{member} 解压后过大（{size >> 20} MB，上限 {limit >> 20} MB）",
                           f"{member} expands to {size >> 20} MB (limit {limit >> 20} MB)", member)


def _is_sheet(name: str, kind: str) -> bool:
    if kind == "ods":
        return name == "content.xml"
    return name.startswith("xl/worksheets/") and name.endswith((".xml", ".bin"))


def _stream_sheet(data: bytes, info: zipfile.ZipInfo, limits: Limits) -> None:
    """Inflate one sheet with a hard byte cap, checking <dimension>, rows, cells and the farthest cell in 1 MB blocks."""
    rows = cells = max_row = max_col = 0
    digits = len(str(limits.max_rows))
    # No closing quote: a reference cut at a block's end still shows a lower bound, so an overlong one is not missed.
    far_row = re.compile(rb' r="[A-Z]{0,3}(\d{%d,})' % digits)
    masks = scratch(_CHUNK, _STEP)
    for block, seen in blocks(_inflate(data, info, min(info.file_size, limits.max_member_bytes)), _CHUNK, _STEP):
        if not seen:
            _check_dimension(block, info.filename, limits)
        rows += count_tags(block, _ROW_TAG, seen, masks)
        cells += count_tags(block, _CELL_TAG, seen, masks)
        # References too near the end for may_reach_far lie in the last TAIL bytes, which the regexes always read.
        refs = block if may_reach_far(block, digits, masks) else block[-TAIL:]
        max_row = max([max_row, *map(_number, far_row.findall(refs))])
        max_col = max([max_col, *map(column_number, set(_WIDE_REF.findall(refs)))])
        if odd_syntax(block):
            more_rows, more_cells, far, wide = _general_scan(block, seen)
            rows, cells, max_row, max_col = rows + more_rows, cells + more_cells, max(max_row, far), max(max_col, wide)
        if max(rows, max_row) > limits.max_rows:
            raise _too_many(info.filename, "rows", max(rows, max_row), limits.max_rows)
        if max_col > limits.max_cols:
            raise _too_many(info.filename, "columns", max_col, limits.max_cols)
        if cells > limits.max_cells:
            raise _too_many(info.filename, "cells", cells, limits.max_cells)


def _general_scan(block: np.ndarray, seen: int) -> tuple[int, int, int, int]:
    """Prefixed rows and cells past the first `seen` bytes, and the farthest row and column of any r attribute."""
    rows = sum(1 for m in _PREFIXED_ROW.finditer(block) if m.end() > seen)
    cells = sum(1 for m in _PREFIXED_CELL.finditer(block) if m.end() > seen)
    refs = _ANY_REF.findall(block)
    far = max((_number(d) for _, d in refs if d), default=0)
    wide = max((column_number(c) for c, _ in refs if c), default=0)
    return rows, cells, far, wide


def _inflate(data: bytes, info: zipfile.ZipInfo, cap: int) -> Iterator[bytes]:
    """The member's bytes from its raw stream (not the directory's word); refused once more than `cap` come out."""
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise UnsafeFileError("compression", f"{info.filename} 使用了不支持的压缩方式",
                              f"{info.filename} uses an unsupported compression method", info.filename)
    header = data[info.header_offset:info.header_offset + 30]
    if len(header) < 30 or header[:4] != ZIP_MAGIC:
        raise _damaged(f"bad local header for {info.filename}")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    start = info.header_offset + 30 + name_len + extra_len
    produced = 0
    for out in _steps(memoryview(data)[start:start + info.compress_size], info):
        produced += len(out)
        if produced > cap:
            if produced > info.file_size:
                raise UnsafeFileError("size_mismatch", f"{info.filename} 实际解压大小超过声明（疑似压缩炸弹）",
                                      f"{info.filename} inflates past its declared size: a decompression bomb?",
                                      info.filename)
            raise _too_big(info.filename, produced, cap)
        if out:
            yield out


def _steps(raw: memoryview, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """`raw` inflated (or, if stored, cut) at most _STEP bytes at a time."""
    if info.compress_type == zipfile.ZIP_STORED:
        for pos in range(0, len(raw), _STEP):
            yield bytes(raw[pos:pos + _STEP])
        return
    inflater = zlib.decompressobj(-15)
    try:
        for pos in range(0, len(raw), _STEP // 4):
            piece, out = bytes(raw[pos:pos + _STEP // 4]), b""
            # A full step may leave output held back with all input taken: ask again, or the sheet's end goes unread.
            while piece or len(out) == _STEP:
                out = inflater.decompress(piece, _STEP)
                piece = inflater.unconsumed_tail
                yield out
    except zlib.error as exc:
        raise _damaged(f"{info.filename}: {exc}") from exc


def _check_dimension(head: bytes | np.ndarray, member: str, limits: Limits) -> None:
    m = _DIMENSION.search(head)
    if not m or not m.group(4):
        return
    rows, cols = _number(m.group(4)), column_number(m.group(3))
    if rows > limits.max_rows:
        raise _too_many(member, "rows", rows, limits.max_rows)
    if cols > limits.max_cols:
        raise _too_many(member, "columns", cols, limits.max_cols)


def _too_many(member: str, what: str, n: int, limit: int) -> UnsafeFileError:
    zh = {"rows": "行", "columns": "列", "cells": "个单元格"}[what]
    return UnsafeFileError(f"too_many_{what}", f"{member} 有 {n} {zh}，超过上限 {limit}",
                           f"{member} has {n} {what} (limit {limit})", member)
