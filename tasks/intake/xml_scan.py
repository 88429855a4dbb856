"""Byte-level scanning of a sheet's XML with numpy, block by block: tag counts and a sieve for far references."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

TAIL = 256  # bytes a block repeats from the one before, so a tag or reference cut at a block edge is seen whole


def scratch(size: int, step: int) -> np.ndarray:
    """Reusable boolean masks for blocks from blocks(..., size, step)."""
    return np.empty((3, TAIL + size + step), bool)


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


def _table(*members: bytes) -> np.ndarray:
    """A 256-entry lookup: True for each byte of `members`; table[grid[at]] classifies bytes at positions at."""
    table = np.zeros(256, bool)
    table[np.frombuffer(b"".join(members), np.uint8)] = True
    return table


_BLANK = _table(b" \t\r\n")
_UPPER = _table(bytes(range(ord("A"), ord("Z") + 1)))
_DIGIT = _table(b"0123456789")
_PREFIXED = _table(b"cr")  # after ":", the start of a prefixed <x:c> or <x:row>
_LT, _EQ, _QUOTE, _SPACE, _COLON = (ord(c) for c in '<="' + " :")


def count_rows_cells(grid: np.ndarray, seen: int, masks: np.ndarray) -> tuple[int, int]:
    """Start tags <row and <c in `grid` ending past its first `seen` bytes (the block before counted those).

    The name must end there (whitespace, "/" or ">" are all <= ">"): <rowBreaks>, <cols>, <color> and <cfRule> are
    not rows or cells, while <row/>, <c/> and a tab or newline after the name are. Built in `masks` (1 MB
    temporaries are slow); "<c" is common (every cell), so it is counted on masks; "<r" is rare (one a row), so its
    starts are listed and their next bytes read.
    """
    n = len(grid)
    if n < 3:
        return 0, 0
    lt = np.equal(grid[: n - 2], _LT, out=masks[0, : n - 2])  # "<" where a name and the byte after it fit
    cells = np.equal(grid[1 : n - 1], ord("c"), out=masks[1, : n - 2])
    cells &= lt
    cells &= np.less_equal(grid[2:], ord(">"), out=masks[2, : n - 2])
    n_cells = int(np.count_nonzero(cells[max(seen - 2, 0) :]))
    if n < 5:
        return 0, n_cells
    rows = np.equal(grid[1 : n - 3], ord("r"), out=masks[1, : n - 4])
    rows &= lt[: n - 4]
    at = np.flatnonzero(rows)
    at = at[(grid[at + 2] == ord("o")) & (grid[at + 3] == ord("w")) & (grid[at + 4] <= ord(">"))]
    return int(np.count_nonzero(at >= seen - 4)), n_cells


def scan_refs(grid: np.ndarray, digits: int) -> tuple[bool, bool]:
    """From every "=" at once: whether an r="..." might reach far (see below), and whether the syntax is odd (any
    attribute or tag spelt other than ` r="`, `name="` and an unprefixed tag, as Excel writes)."""
    eq = np.flatnonzero(grid[2:-1] == _EQ) + 2 if len(grid) > 3 else np.empty(0, np.intp)
    before = grid[eq - 1]
    r_eq = eq[before == ord("r")]
    spaced, quoted = grid[r_eq - 2] == _SPACE, grid[r_eq + 1] == _QUOTE
    odd = bool(_BLANK[before].any()) or not (spaced.all() and quoted.all())
    if not odd:
        colon = np.flatnonzero(grid[:-1] == _COLON)
        odd = bool(_PREFIXED[grid[colon + 1]].any())
    # Each ` r="` (its "=" at least digits + 4 bytes before the end): the first byte of its value.
    at = r_eq[spaced & quoted & (r_eq < len(grid) - digits - 3)] + 2
    return _may_reach_far(grid, at, digits), odd


def _may_reach_far(grid: np.ndarray, at: np.ndarray, digits: int) -> bool:
    """Whether a value starting at `at` might name a column past Z or a row of `digits` digits; the regexes then
    say exactly."""
    if (_UPPER[grid[at]] & _UPPER[grid[at + 1]]).any():
        return True
    # Past that, one letter at most: a far row's digits fill offsets 0 .. digits - 1 or 1 .. digits, so one is at
    # digits - 1 and another at 0 or `digits`. One letter and digits - 1 digits, the common case, fail this sieve.
    if digits > 1:
        at = at[_DIGIT[grid[at + digits - 1]] & (_DIGIT[grid[at]] | _DIGIT[grid[at + digits]])]
    return bool(np.any(sum(_DIGIT[grid[at + i]] for i in range(digits + 1)) >= digits))
