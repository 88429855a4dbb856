"""A bounded evaluator for formulas Excel never computed: numbers, cells, + - * / ^ %, parentheses and SUM."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

Pos = tuple[int, int]

MAX_LENGTH = 8192  # Excel's own limit on a formula's text
MAX_LITERAL = 32  # digits and exponent of one number; longer is no figure a clerk types
MAX_DEPTH = 32  # nested parentheses, and formulas referring to formulas
MAX_MAGNITUDE = 1e15  # every operand and result; the warehouse holds less than 1e14
MAX_READS = 20_000  # cells all formulas of one sheet may read, ranges included
MAX_SECONDS = 1.0  # for all formulas of one sheet

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<num>(?:\d+\.?\d*|\.\d+)(?:E[+-]?\d+)?)
  | (?P<range>\$?[A-Z]{1,3}\$?\d{1,7}\s*:\s*\$?[A-Z]{1,3}\$?\d{1,7})(?![A-Z0-9(!])
  | (?P<ref>\$?[A-Z]{1,3}\$?\d{1,7})(?![A-Z0-9(!:])
  | (?P<func>[A-Z_][A-Z0-9_.]*)\s*\(
  | (?P<op>[-+*/^%(),])
  | (?P<other>\S)
)""",
    re.VERBOSE,
)
_ADDRESS = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)")


class Unsupported(Exception):
    """A function or syntax this evaluator does not compute (another sheet, text, VLOOKUP...)."""


class Unevaluable(Exception):
    """A formula that breaks a bound, is malformed, circular, or an error in Excel (#DIV/0!, #NUM!)."""


@dataclass
class Budget:
    """Cells read, nesting depth and the deadline shared by all formulas of one sheet."""

    reads: int = MAX_READS
    depth: int = 0
    deadline: float = field(default_factory=lambda: time.monotonic() + MAX_SECONDS)

    def spend(self, n: int = 1) -> None:
        self.reads -= n
        if self.reads < 0 or time.monotonic() > self.deadline:
            raise Unevaluable("too much work")

    @contextmanager
    def deeper(self) -> Iterator[None]:
        """One more level of parentheses, SUM or formula referring to a formula."""
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise Unevaluable("nested too deep")
            yield
        finally:
            self.depth -= 1


def _column(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def address_pos(text: str) -> Pos:
    """(row, column) of an address such as $B$7."""
    m = _ADDRESS.fullmatch(text.strip())
    if m is None:
        raise Unevaluable(text)
    return int(m[2]), _column(m[1])


def bounded(x: float) -> float:
    """`x` if it is a finite figure within MAX_MAGNITUDE; Unevaluable otherwise."""
    if not math.isfinite(x) or abs(x) > MAX_MAGNITUDE:
        raise Unevaluable("out of range")
    return x


def tokens(formula: str) -> list[tuple[str, str]]:
    """(kind, text) pairs of a formula without its leading '='."""
    if len(formula) > MAX_LENGTH:
        raise Unevaluable("too long")
    out = []
    for m in _TOKEN.finditer(formula.upper()):
        kind = m.lastgroup
        assert kind is not None  # every alternative of _TOKEN is a named group
        if kind == "other":
            raise Unsupported(m[kind])
        if kind == "func" and m[kind] != "SUM":
            raise Unsupported(m[kind])
        out.append((kind, m[kind]))
    return out


class Parser:
    """Recursive descent over Excel's precedence: + -, then * /, then ^, then unary minus, then %."""

    def __init__(
        self, formula: str, cell: Callable[[Pos], float], cells: Callable[[Pos, Pos], list[float]], budget: Budget
    ) -> None:
        self.toks, self.i = tokens(formula), 0
        self.cell, self.cells, self.budget = cell, cells, budget

    def parse(self) -> float:
        value = self.additive()
        if self.i != len(self.toks):
            raise Unevaluable("trailing input")
        return value

    def peek(self) -> str | None:
        return self.toks[self.i][1] if self.i < len(self.toks) and self.toks[self.i][0] == "op" else None

    def take(self) -> tuple[str, str]:
        if self.i >= len(self.toks):
            raise Unevaluable("unexpected end")
        self.i += 1
        return self.toks[self.i - 1]

    def additive(self) -> float:
        value = self.term()
        while self.peek() in ("+", "-"):
            sign = 1.0 if self.take()[1] == "+" else -1.0
            value = bounded(value + sign * self.term())
        return value

    def term(self) -> float:
        value = self.power()
        while self.peek() in ("*", "/"):
            op, right = self.take()[1], self.power()
            if op == "/" and right == 0:
                raise Unevaluable("#DIV/0!")
            value = bounded(value * right if op == "*" else value / right)
        return value

    def power(self) -> float:
        value = self.unary()
        while self.peek() == "^":
            self.take()
            exponent = self.unary()
            try:
                value = bounded(math.pow(value, exponent))
            except (OverflowError, ValueError, ZeroDivisionError) as exc:
                raise Unevaluable("#NUM!") from exc
        return value

    def unary(self) -> float:
        if self.peek() in ("+", "-"):
            return (1.0 if self.take()[1] == "+" else -1.0) * self.unary()
        value = self.primary()
        while self.peek() == "%":
            self.take()
            value /= 100
        return value

    def primary(self) -> float:
        kind, text = self.take()
        if kind == "num":
            if len(text) > MAX_LITERAL:
                raise Unevaluable("operand too long")
            return bounded(float(text))
        if kind == "ref":
            return bounded(self.cell(address_pos(text)))
        if kind == "func":
            return self.nested(self.sum_args)
        if (kind, text) == ("op", "("):
            return self.nested(self.group)
        raise Unevaluable(f"unexpected {text}")

    def nested(self, inner: Callable[[], float]) -> float:
        with self.budget.deeper():
            return inner()

    def group(self) -> float:
        value = self.additive()
        if self.take() != ("op", ")"):
            raise Unevaluable("unbalanced parentheses")
        return value

    def sum_args(self) -> float:
        total = 0.0
        while True:
            if self.i < len(self.toks) and self.toks[self.i][0] == "range":
                first, last = self.take()[1].split(":")
                total = bounded(total + sum(self.cells(address_pos(first), address_pos(last))))
            else:
                total = bounded(total + self.additive())
            sep = self.take()
            if sep == ("op", ")"):
                return total
            if sep != ("op", ","):
                raise Unevaluable("bad SUM arguments")
