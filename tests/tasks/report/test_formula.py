"""Formulas Excel never computed: what a report's figures need is computed; the rest is named, fast, never a crash."""

from __future__ import annotations

import time

import pytest

from tasks.report.workbook import UNEVALUABLE, UNSUPPORTED, Extent, Grid, evaluate_formulas


def _grid(formulas: dict[tuple[int, int], str], values: dict[tuple[int, int], object] | None = None) -> Grid:
    grid = Grid("表1", extent=Extent(rows=300, cols=40))
    for pos, value in (values or {}).items():
        grid.put(pos, value)
    for pos, formula in formulas.items():
        grid.formulas[pos] = formula
        grid.put(pos, None)
    evaluate_formulas(grid)
    return grid


@pytest.mark.parametrize(
    ("formula", "value"),
    [
        ("=SUM(B1:D1)", 6.0),
        ("=B1+C1*D1", 7.0),
        ("=2^10", 1024.0),
        ("=-2^2", 4.0),
        ("=2^3^2", 64.0),
        ("=50%", 0.5),
        ("=(B1+C1)/4", 0.75),
        ("=SUM(B1:D1,10,B1)", 17.0),
        ("= $B$1 + 1e3", 1001.0),
        ("=SUM(B1:B9)", 1.0),
        ("=E1", 0.0),
    ],
)
def test_what_a_report_needs_is_computed(formula: str, value: float) -> None:
    grid = _grid({(1, 1): formula}, {(1, 2): 1, (1, 3): "2", (1, 4): 3.0})
    assert grid.get(1, 1) == pytest.approx(value) and not grid.problems


@pytest.mark.parametrize(
    "formula",
    [
        "=1.5^100000",
        "=1.5**100000",
        "=()",
        "=10^400",
        "=10**400",
        "=9^9^9^9",
        "=SUM(A1:ZZZ999999)",
        "=B1/0",
        "=(-8)^(1/3)",
        "=1" + "0" * 40,
        "=" + "(" * 5_000 + "1" + ")" * 5_000,
        "=SUM()",
        "=1+",
        "=A5000",
        "=1e308*10",
        "=" + "+".join(["1e14"] * 20),
    ],
)
def test_beyond_the_bounds_is_unevaluable_fast(formula: str) -> None:
    t = time.perf_counter()
    grid = _grid({(1, 1): formula}, {(1, 2): 1})
    assert grid.problems == {(1, 1): UNEVALUABLE} and grid.get(1, 1) is None
    assert time.perf_counter() - t < 1.5


@pytest.mark.parametrize("formula", ["=VLOOKUP(1,A1:B2,2)", "=Sheet2!A1", '="a"&"b"', "=A1>2", "=E:E"])
def test_what_we_do_not_compute_is_unsupported(formula: str) -> None:
    assert _grid({(2, 1): formula}).problems == {(2, 1): UNSUPPORTED}


def test_cycles_and_what_depends_on_them_are_unevaluable() -> None:
    grid = _grid({(1, 1): "=A2+1", (2, 1): "=A3+1", (3, 1): "=A1+1", (4, 1): "=A1*2", (5, 1): "=A5", (6, 1): "=7"})
    assert grid.problems == {(r, 1): UNEVALUABLE for r in range(1, 6)}
    assert grid.get(6, 1) == 7.0


def test_a_long_chain_stops_at_the_depth_bound_and_a_fan_out_at_the_budget() -> None:
    chain = {(r, 1): f"=A{r + 1}+1" for r in range(1, 200)}
    grid = _grid(chain, {(200, 1): 1})
    assert grid.problems.get((1, 1)) == UNEVALUABLE and grid.get(199, 1) == 2.0
    # Each row sums the whole row below twice over: without memoising and a budget this is 40 ** 100 reads.
    t = time.perf_counter()
    fan = {(r, c): f"=SUM(A{r + 1}:AN{r + 1})+SUM(A{r + 1}:AN{r + 1})" for r in range(1, 100) for c in range(1, 41)}
    _grid(fan)
    assert time.perf_counter() - t < 3.0
