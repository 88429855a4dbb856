"""Unwrap what stores keep around text (base64, lzma/gzip/bz2/zlib, pickles, JSON escapes) so the PII scan sees it.

Prefect keeps a task's result as JSON whose "result" is base64 of a (compressed) cloudpickle; its database holds
JSON with \\uXXXX escapes. Pickles are walked with `pickletools.genops`, which reads opcodes and never runs them.
"""

from __future__ import annotations

import binascii
import bz2
import lzma
import pickletools
import re
import zlib
from collections.abc import Iterator
from typing import Protocol

MAX_DEPTH = 4
MAX_INFLATED = 256 * 1024 * 1024
# Raw buffers inside a pickle (Arrow string data, NumPy arrays) hold values packed with no separator between them.
PACKED = "!packed"
# A base64 run is decoded from 12 characters: a 3-character name is 9 bytes of UTF-8, 12 in base64.
_B64_RUN = re.compile(rb"[A-Za-z0-9+/]{12,}={0,2}(?:(?:\\n|\n)[A-Za-z0-9+/]+={0,2})*")
_B64_BREAKS = re.compile(rb"\\n|\n|=")
_JSON_ESCAPE = re.compile(r"\\+u([0-9a-fA-F]{4})")  # JSON inside JSON doubles the backslash
_PICKLE_PROTOCOLS = frozenset(range(2, 6))


class _Decompressor(Protocol):
    @property
    def eof(self) -> bool: ...

    def decompress(self, data: bytes, max_length: int = ..., /) -> bytes: ...


def _bounded(decompressor: _Decompressor, data: bytes) -> bytes | None:
    """The output of a whole stream (up to the cap); None unless the stream really was one, to its end."""
    try:
        out = decompressor.decompress(data, MAX_INFLATED)
    except (lzma.LZMAError, OSError, EOFError, ValueError, zlib.error):
        return None
    return out if decompressor.eof or len(out) == MAX_INFLATED else None


def inflate(data: bytes) -> bytes | None:
    """The decompressed bytes of an xz, gzip, bz2 or zlib blob (capped), or None if it is none of those."""
    if data[:6] == b"\xfd7zXZ\x00":
        return _bounded(lzma.LZMADecompressor(), data)
    if data[:2] == b"\x1f\x8b":
        return _bounded(zlib.decompressobj(wbits=31), data)
    if data[:3] == b"BZh":
        return _bounded(bz2.BZ2Decompressor(), data)
    if len(data) > 2 and data[0] == 0x78 and (data[0] << 8 | data[1]) % 31 == 0:
        return _bounded(zlib.decompressobj(), data)
    return None


def pickle_values(data: bytes) -> tuple[list[str], list[bytes]] | None:
    """The strings and raw byte buffers of a pickle, read opcode by opcode; None if `data` is not a whole pickle."""
    if len(data) < 3 or data[0] != 0x80 or data[1] not in _PICKLE_PROTOCOLS:
        return None
    texts: list[str] = []
    buffers: list[bytes] = []
    try:
        for _op, arg, _pos in pickletools.genops(data):
            if isinstance(arg, str):
                texts.append(arg)
            elif isinstance(arg, (bytes, bytearray)):
                buffers.append(bytes(arg))
    except Exception:  # noqa: BLE001 - a truncated or foreign pickle is read as plain bytes instead
        return None
    return texts, buffers


def unbase64(run: bytes) -> bytes | None:
    """The bytes behind one base64 run (line breaks and JSON-escaped line breaks removed), or None."""
    body = _B64_BREAKS.sub(b"", run)
    body = body[: len(body) - 1] if len(body) % 4 == 1 else body  # one stray character cannot be decoded
    try:
        return binascii.a2b_base64(body + b"=" * (-len(body) % 4)) if body else None
    except binascii.Error:
        return None


def _as_text(data: bytes, packed: bool) -> str:
    text = data.decode("utf-8", errors="ignore")
    if packed and len(data) % 4 == 0:  # NumPy keeps fixed-width strings as UTF-32
        text += "\n" + data.decode("utf-32-le", errors="ignore")
    if "\\u" in text:
        text += "\n" + _JSON_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text)
    return text


def decoded_texts(data: bytes, where: str, depth: int = 0, packed: bool = False) -> Iterator[tuple[str, str]]:
    """(where, text) for `data` and for every base64, compressed or pickled payload found inside it."""
    if depth > MAX_DEPTH or not data:
        return
    values = pickle_values(data)
    if values is not None:
        texts, buffers = values
        yield f"{where}!pickle", "\n".join(texts)
        for text in texts:
            if len(text) >= 24:
                yield from decoded_texts(text.encode("utf-8", errors="ignore"), f"{where}!pickle", depth + 1)
        for buf in buffers:
            yield from decoded_texts(buf, f"{where}!pickle{PACKED}", depth + 1, packed=True)
        return
    inflated = inflate(data)
    if inflated is not None:
        yield from decoded_texts(inflated, f"{where}!inflated", depth + 1, packed)
        return
    yield where, _as_text(data, packed)
    for match in _B64_RUN.finditer(data):
        raw = unbase64(match[0])
        if raw:
            yield from decoded_texts(raw, f"{where}!base64", depth + 1)
