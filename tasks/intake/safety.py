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

from core.errors import FupinError
from tasks.intake.xml_scan import TAIL, blocks, count_rows_cells, scan_refs, scratch

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
# Spellings XML allows that the fast scan does not see (single quotes, blanks around "=", a tab or line break before
# r, a namespace prefix): a block holding any of them is also read with these general patterns, slower but exact.
_ANY_REF = re.compile(rb'\sr\s*=\s*["\']\s*([A-Z]{0,3})(\d*)')
_PREFIXED_ROW = re.compile(rb"<[\w.-]+:row[\s/>]")
_PREFIXED_CELL = re.compile(rb"<[\w.-]+:c[\s/>]")
# A DTD can declare entities that expand past every count the scan makes (and XML never needs one here). UTF-16 and
# UTF-32 parts put NULs between the letters.
_DTD = re.compile(rb"<\s*!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_DTD_TAIL = 64
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
    """How big a received file may be, checked from the zip directory and a capped streaming pass of every part.

    `max_grid` caps a sheet's rectangle (farthest row x farthest column), which readers build cell by cell even
    when it is empty; the part caps fit what Excel writes in each kind of part.
    """

    max_file_bytes: int
    max_members: int
    max_member_bytes: int
    max_total_bytes: int
    max_ratio: float
    max_rows: int
    max_cols: int
    max_cells: int
    max_grid: int = 200_000
    max_total_cells: int = 300_000
    max_strings_bytes: int = 16 << 20
    max_styles_bytes: int = 2 << 20
    max_part_bytes: int = 16 << 20

    def part_cap(self, name: str) -> int:
        """The most a part that is not a sheet may inflate to."""
        base = name.rsplit("/", 1)[-1].lower()
        cap = {"sharedstrings.xml": self.max_strings_bytes, "styles.xml": self.max_styles_bytes}.get(base)
        return min(cap or self.max_part_bytes, self.max_member_bytes)


# A report form has at most ~60 rows and 11 columns; these leave room for notes, extra sheets and old copies.
REPORT_LIMITS = Limits(
    max_file_bytes=20 << 20,
    max_members=500,
    max_member_bytes=64 << 20,
    max_total_bytes=128 << 20,
    max_ratio=200.0,
    max_rows=5_000,
    max_cols=200,
    max_cells=200_000,
)
# The HR export holds ~330k people x ~10 columns; Excel's own ceiling is 1,048,576 rows. A reader holds every cell
# of the grid in memory, so cells are capped as well as rows and columns; the rectangle may be Excel's full height
# over 26 columns. Shared strings hold every name and employer (~50 MB for 330k people).
LABOR_LIMITS = Limits(
    max_file_bytes=300 << 20,
    max_members=500,
    max_member_bytes=768 << 20,
    max_total_bytes=800 << 20,
    max_ratio=200.0,
    max_rows=1_048_576,
    max_cols=200,
    max_cells=20_000_000,
    max_grid=1_048_576 * 26,
    max_total_cells=20_000_000,
    max_strings_bytes=256 << 20,
    max_styles_bytes=8 << 20,
    max_part_bytes=32 << 20,
)


@dataclass(frozen=True)
class Verdict:
    """What the file is (xlsx, xlsm, xls, ods, csv) and notes worth keeping (e.g. macros ignored)."""

    kind: str
    notes: tuple[str, ...] = ()


def _number(digits: bytes) -> int:
    """A row number as written; past 18 digits it is over every limit anyway (and int() refuses 4,300+ digits)."""
    return int(digits) if len(digits) <= 18 else 10**18


def column_number(letters: bytes | str) -> int:
    text = letters.decode() if isinstance(letters, bytes) else letters
    n = 0
    for ch in text:
        n = n * 26 + ord(ch) - 64
    return n


def check_size(size: int, limits: Limits = REPORT_LIMITS) -> None:
    """Refuse a file by its size alone, before any of its bytes are read."""
    if size > limits.max_file_bytes:
        raise UnsafeFileError(
            "file_too_large",
            f"文件过大（{size >> 20} MB，上限 {limits.max_file_bytes >> 20} MB）",
            f"file too large ({size >> 20} MB, limit {limits.max_file_bytes >> 20} MB)",
        )


def check_file(data: bytes, suffix: str, limits: Limits = REPORT_LIMITS) -> Verdict:
    """Refuse (UnsafeFileError) anything that is not a workbook/CSV within `limits`; never loads a sheet."""
    suffix = suffix.lower()
    if not data:
        raise UnsafeFileError("empty_file", "文件为空（0 字节）", "the file is empty (0 bytes)")
    check_size(len(data), limits)
    if data.startswith(b"%PDF"):
        raise UnsafeFileError(
            "not_a_workbook",
            "这是 PDF 文件，不是 Excel 表格，请提交 .xlsx",
            "this is a PDF, not a workbook: send the .xlsx",
        )
    if data.startswith(OLE2_MAGIC):
        return _check_ole2(data, suffix)
    if data.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        return _check_zip(data, suffix, limits)
    if suffix in (".csv", ".txt"):
        return Verdict("csv")
    raise UnsafeFileError(
        "not_a_workbook",
        f"文件内容不是 Excel 表格（扩展名 {suffix or '无'}）",
        f"the content is not a workbook (extension {suffix or 'none'})",
    )


def _check_ole2(data: bytes, suffix: str) -> Verdict:
    if _ENCRYPTED_STREAM in data:
        raise UnsafeFileError(
            "encrypted",
            "工作簿设置了打开密码（已加密），请取消密码后重新提交",
            "the workbook is password-protected (encrypted): remove the password and send it again",
        )
    if suffix != ".xls":
        raise UnsafeFileError(
            "renamed_xls",
            f"这是旧版 .xls（或 .doc）文件，却以 {suffix} 命名：请另存为 .xlsx",
            f"this is an old .xls (or .doc) file named {suffix}: save it as .xlsx",
        )
    return Verdict("xls")


def _open_zip(data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _damaged(str(exc)) from exc


def _damaged(detail: str) -> UnsafeFileError:
    return UnsafeFileError(
        "damaged_zip",
        "文件已损坏或不完整（可能上传中断），请重新保存后提交",
        f"the file is damaged or truncated (upload interrupted?): {detail}",
    )


def _check_zip(data: bytes, suffix: str, limits: Limits) -> Verdict:
    with _open_zip(data) as zf:
        infos = zf.infolist()
        names = {i.filename for i in infos}
        kind = _ooxml_kind(names, suffix)
        _check_directory(infos, limits)
        cells = 0
        for info in infos:
            if not _is_sheet(info.filename, kind):
                for _ in _inflate(data, info, min(info.file_size, limits.part_cap(info.filename))):
                    pass
                continue
            cells += _check_sheet(data, info, limits)
            if cells > limits.max_total_cells:
                raise _too_many("(all sheets)", "cells", cells, limits.max_total_cells)
    notes = (
        ("宏（vbaProject）已忽略，只读取数值 / macros ignored: values only, nothing executed",)
        if "xl/vbaProject.bin" in names
        else ()
    )
    return Verdict("xlsm" if notes else kind, notes)


def _ooxml_kind(names: set[str], suffix: str) -> str:
    if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        return "xlsb" if "xl/workbook.bin" in names else "xlsx"
    if "content.xml" in names and suffix == ".ods":
        return "ods"
    if "word/document.xml" in names:
        raise UnsafeFileError(
            "not_a_workbook",
            "这是 Word 文档（.docx），不是 Excel 表格",
            "this is a Word document (.docx) renamed, not a workbook",
        )
    if any(n.startswith("ppt/") for n in names):
        raise UnsafeFileError(
            "not_a_workbook",
            "这是 PowerPoint 文件，不是 Excel 表格",
            "this is a PowerPoint file renamed, not a workbook",
        )
    raise UnsafeFileError("not_a_workbook", "压缩包里没有 Excel 工作簿", "a zip archive without a workbook inside")


def _check_directory(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Sizes as the central directory declares them; the streaming pass below catches a directory that lies."""
    if len(infos) > limits.max_members:
        raise UnsafeFileError(
            "too_many_members",
            f"文件内部条目过多（{len(infos)}）",
            f"too many parts inside the file ({len(infos)} > {limits.max_members})",
        )
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise UnsafeFileError("encrypted", "文件内容已加密", "a part of the file is encrypted", info.filename)
        total += info.file_size
        if info.file_size > limits.max_member_bytes:
            raise _too_big(info.filename, info.file_size, limits.max_member_bytes)
        if info.file_size > _CHUNK and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise UnsafeFileError(
                "compression_ratio",
                f"{info.filename} 压缩比异常（疑似压缩炸弹）",
                f"{info.filename} expands {info.file_size // max(info.compress_size, 1)}x "
                f"(limit {limits.max_ratio:.0f}x): a decompression bomb?",
                info.filename,
            )
    if total > limits.max_total_bytes:
        raise _too_big("(all parts)", total, limits.max_total_bytes)


def _too_big(member: str, size: int, limit: int) -> UnsafeFileError:
    return UnsafeFileError(
        "uncompressed_size",
        f"{member} 解压后过大（{size >> 20} MB，上限 {limit >> 20} MB）",
        f"{member} expands to {size >> 20} MB (limit {limit >> 20} MB)",
        member,
    )


def _is_sheet(name: str, kind: str) -> bool:
    if kind == "ods":
        return name == "content.xml"
    return name.startswith("xl/worksheets/") and name.endswith((".xml", ".bin"))


@dataclass(frozen=True)
class _Scan:
    """What one pass over a sheet saw: row and cell tags, and the farthest row and column referenced."""

    rows: int
    cells: int
    far_row: int
    far_col: int


def _digits(n: int) -> int:
    return len(str(n))


def _check_sheet(data: bytes, info: zipfile.ZipInfo, limits: Limits) -> int:
    """Refuse a sheet past any limit, its rectangle included; return its cell count."""
    scan = _stream_sheet(data, info, limits, _digits(limits.max_rows))
    # The first pass sees rows of as many digits as max_rows, and columns past Z. A sheet as wide as that may break
    # max_grid with a nearer row: then read again, seeing rows from where they could.
    wide = max(scan.far_col, 26)
    if _digits(limits.max_grid // wide) < _digits(limits.max_rows):
        scan = _stream_sheet(data, info, limits, _digits(limits.max_grid // wide))
    # Rows below the sieve's reach are < 10 ** (digits - 1) <= max_grid // wide, so they cannot break it.
    grid = max(scan.rows, scan.far_row) * max(scan.far_col, 26)
    if grid > limits.max_grid:
        raise UnsafeFileError(
            "too_large_grid",
            f"{info.filename} 的表格范围过大（{grid} 个单元格，上限 {limits.max_grid}）",
            f"{info.filename} spans {grid} cells from its first to its farthest cell (limit {limits.max_grid})",
            info.filename,
        )
    return scan.cells


def _stream_sheet(data: bytes, info: zipfile.ZipInfo, limits: Limits, digits: int) -> _Scan:
    """Inflate one sheet with a hard byte cap, checking <dimension>, rows, cells and the farthest cell in 1 MB blocks.

    Rows are seen from `digits` digits on, columns from two letters on.
    """
    rows = cells = max_row = max_col = 0
    # No closing quote: a reference cut at a block's end still shows a lower bound, so an overlong one is not missed.
    far_row = re.compile(rb' r="[A-Z]{0,3}(\d{%d,})' % digits)
    masks = scratch(_CHUNK, _STEP)
    for block, seen in blocks(_inflate(data, info, min(info.file_size, limits.max_member_bytes)), _CHUNK, _STEP):
        if not seen:
            _check_dimension(block, info.filename, limits)
        more_rows, more_cells = count_rows_cells(block, seen, masks)
        rows, cells = rows + more_rows, cells + more_cells
        may_reach_far, odd_syntax = scan_refs(block, digits)
        # References too near the end for the sieve lie in the last TAIL bytes, which the regexes always read.
        # .data: re reads the array's buffer either way; numpy's stubs give ndarray no buffer type before 3.12.
        refs = (block if may_reach_far else block[-TAIL:]).data
        max_row = max([max_row, *map(_number, far_row.findall(refs))])
        max_col = max([max_col, *map(column_number, set(_WIDE_REF.findall(refs)))])
        if odd_syntax:
            more_rows, more_cells, far, wide = _general_scan(block, seen)
            rows, cells, max_row, max_col = rows + more_rows, cells + more_cells, max(max_row, far), max(max_col, wide)
        if max(rows, max_row) > limits.max_rows:
            raise _too_many(info.filename, "rows", max(rows, max_row), limits.max_rows)
        if max_col > limits.max_cols:
            raise _too_many(info.filename, "columns", max_col, limits.max_cols)
        if cells > limits.max_cells:
            raise _too_many(info.filename, "cells", cells, limits.max_cells)
    return _Scan(rows, cells, max_row, max_col)


def _general_scan(block: np.ndarray, seen: int) -> tuple[int, int, int, int]:
    """Prefixed rows and cells past the first `seen` bytes, and the farthest row and column of any r attribute."""
    text = block.data  # the array's buffer, which is what re reads (numpy types none before 3.12)
    rows = sum(1 for m in _PREFIXED_ROW.finditer(text) if m.end() > seen)
    cells = sum(1 for m in _PREFIXED_CELL.finditer(text) if m.end() > seen)
    refs = _ANY_REF.findall(text)
    far = max((_number(d) for _, d in refs if d), default=0)
    wide = max((column_number(c) for c, _ in refs if c), default=0)
    return rows, cells, far, wide


def _inflate(data: bytes, info: zipfile.ZipInfo, cap: int) -> Iterator[bytes]:
    """The member's bytes from its raw stream (not the directory's word); refused once more than `cap` come out."""
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise UnsafeFileError(
            "compression",
            f"{info.filename} 使用了不支持的压缩方式",
            f"{info.filename} uses an unsupported compression method",
            info.filename,
        )
    header = data[info.header_offset : info.header_offset + 30]
    if len(header) < 30 or header[:4] != ZIP_MAGIC:
        raise _damaged(f"bad local header for {info.filename}")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    start = info.header_offset + 30 + name_len + extra_len
    produced, tail = 0, b""
    for out in _steps(memoryview(data)[start : start + info.compress_size], info):
        produced += len(out)
        # memchr for "!" keeps this off the hot path: sheets, strings and styles hardly ever hold one.
        if b"!" in out or b"!" in tail:
            _refuse_dtd(tail + out, info.filename)
        tail = out[-_DTD_TAIL:]
        if produced > cap:
            if produced > info.file_size:
                raise UnsafeFileError(
                    "size_mismatch",
                    f"{info.filename} 实际解压大小超过声明（疑似压缩炸弹）",
                    f"{info.filename} inflates past its declared size: a decompression bomb?",
                    info.filename,
                )
            raise _too_big(info.filename, produced, cap)
        if out:
            yield out


def _refuse_dtd(window: bytes, member: str) -> None:
    if _DTD.search(window.replace(b"\0", b"")):
        raise UnsafeFileError(
            "dtd",
            f"{member} 含有 DTD 或实体声明（<!DOCTYPE / <!ENTITY），Excel 从不写入，已拒收",
            f"{member} holds a DTD or entity declaration (<!DOCTYPE / <!ENTITY), which Excel never writes: refused",
            member,
        )


def _steps(raw: memoryview, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """`raw` inflated (or, if stored, cut) at most _STEP bytes at a time."""
    if info.compress_type == zipfile.ZIP_STORED:
        for pos in range(0, len(raw), _STEP):
            yield bytes(raw[pos : pos + _STEP])
        return
    inflater = zlib.decompressobj(-15)
    try:
        for pos in range(0, len(raw), _STEP // 4):
            piece, out = bytes(raw[pos : pos + _STEP // 4]), b""
            # A full step may leave output held back with all input taken: ask again, or the sheet's end goes unread.
            while piece or len(out) == _STEP:
                out = inflater.decompress(piece, _STEP)
                piece = inflater.unconsumed_tail
                yield out
    except zlib.error as exc:
        raise _damaged(f"{info.filename}: {exc}") from exc


def _check_dimension(head: np.ndarray, member: str, limits: Limits) -> None:
    m = _DIMENSION.search(head.data)
    if not m or not m.group(4):
        return
    rows, cols = _number(m.group(4)), column_number(m.group(3))
    if rows > limits.max_rows:
        raise _too_many(member, "rows", rows, limits.max_rows)
    if cols > limits.max_cols:
        raise _too_many(member, "columns", cols, limits.max_cols)


def _too_many(member: str, what: str, n: int, limit: int) -> UnsafeFileError:
    zh = {"rows": "行", "columns": "列", "cells": "个单元格"}[what]
    return UnsafeFileError(
        f"too_many_{what}",
        f"{member} 有 {n} {zh}，超过上限 {limit}",
        f"{member} has {n} {what} (limit {limit})",
        member,
    )
