"""Byte-level scanning of a sheet's XML with numpy, block by block: tag counts and a sieve for far references."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

TAIL = 256  # bytes a block repeats from the one before, so a tag or reference cut at a block edge is seen whole
_BLANKS = np.frombuffer(b" \t\r\n", np.uint8)
_PREFIXED = np.frombuffer(b"cr", np.uint8)  # after ":", the start of a prefixed <x:c> or <x:row>


def scratch(size: int, step: int) -> np.ndarray:
    """Reusable boolean masks for blocks from blocks(..., size, step)."""
    return np.empty((2, TAIL + size + step), bool)


def blocks(chunks: Iterator[bytes], size: int, step: int) -> Iterator[tuple[np.ndarray, int]]:
    """`chunks` (each <= `step` bytes) in ~`size` blocks, with how many leading bytes the block before already held."""
    # One buffer for all blocks, as for the masks: each block is read before the next overwrites it.
    buf = np.empty(TAIL + size + step, np.uint8)
    seen = end = 0
    for chunk in chunks:
        buf[end : end + len(chunk)] = np.frombuffer(chunk, np.uint8)
        end += len(chunk)
        if end >= size:
            yield buf[:end], seen
            buf[:TAIL] = buf[end - TAIL : end]
            seen = end = TAIL
    if end > seen:
        yield buf[:end], seen


def _starts(grid: np.ndarray, word: bytes, masks: np.ndarray) -> np.ndarray:
    """Where `word` starts in `grid`, its last len(word) bytes left out; built in `masks`: 1 MB temporaries are slow."""
    span = max(len(grid) - len(word), 0)
    hits, same = masks[0, :span], masks[1, :span]
    np.equal(grid[:span], word[0], out=hits)
    for i in range(1, len(word)):
        hits &= np.equal(grid[i : i + span], word[i], out=same)
    return hits


def count_tags(grid: np.ndarray, name: bytes, seen: int, masks: np.ndarray) -> int:
    """Start tags `name` in `grid` ending past its first `seen` bytes (the block before counted those)."""
    hits = _starts(grid, name, masks)
    # The name must end there (whitespace, "/" or ">" are all <= ">"): <rowBreaks>, <cols>, <color> and <cfRule>
    # are not rows or cells, while <row/>, <c/> and a tab or newline after the name are.
    hits &= np.less_equal(grid[len(name) :], ord(">"), out=masks[1, : len(hits)])
    return int(np.count_nonzero(hits[max(seen - len(name), 0) :]))


def may_reach_far(grid: np.ndarray, digits: int, masks: np.ndarray) -> bool:
    """Whether an r="..." might name a column past Z or a row of `digits` digits; the regexes then say exactly."""
    at = np.flatnonzero(_starts(grid[: max(len(grid) - digits - 1, 0)], b' r="', masks)) + 4
    if (_byte_in(grid, at, 0, b"AZ") & _byte_in(grid, at, 1, b"AZ")).any():
        return True
    # Past that, one letter at most: a far row's digits fill offsets 0 .. digits - 1 or 1 .. digits, so one is at
    # digits - 1 and another at 0 or `digits`. One letter and digits - 1 digits, the common case, fail this sieve.
    if digits > 1:
        at = at[
            _byte_in(grid, at, digits - 1, b"09") & (_byte_in(grid, at, 0, b"09") | _byte_in(grid, at, digits, b"09"))
        ]
    return bool(np.any(sum(_byte_in(grid, at, i, b"09") for i in range(digits + 1)) >= digits))


def _byte_in(grid: np.ndarray, at: np.ndarray, offset: int, span: bytes) -> np.ndarray:
    """Whether the byte `offset` after each of `at` lies in span[0]..span[1] (uint8 wraps below span[0])."""
    return grid[offset:][at] - span[0] <= span[1] - span[0]


def odd_syntax(grid: np.ndarray) -> bool:
    """Whether any attribute or tag is spelt other than ` r="`, `name="` and an unprefixed tag, as Excel writes."""
    eq = np.flatnonzero(grid[2:-1] == ord("=")) + 2
    if np.isin(grid[eq - 1], _BLANKS).any():
        return True
    r_eq = eq[grid[eq - 1] == ord("r")]
    if ((grid[r_eq - 2] != ord(" ")) | (grid[r_eq + 1] != ord('"'))).any():
        return True
    colon = np.flatnonzero(grid[:-1] == ord(":"))
    return bool(np.isin(grid[colon + 1], _PREFIXED).any())
