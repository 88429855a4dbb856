"""Column widths: wide and fullwidth characters count 2, everything else 1, line by line (the measure is cached and
ASCII text short-cut, which must not change it)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tasks.xlsx.width import char_width, line_widths, text_width


@given(st.text(alphabet=st.sampled_from("09.,% -aZ\n\t北京市扶贫（）：ＡＢ１２"), max_size=40))
def test_each_line_is_as_wide_as_its_characters(text: str) -> None:
    expected = tuple(sum(char_width(ch) for ch in line) for line in text.split("\n"))
    assert line_widths(text) == expected
    assert line_widths(text) == expected, "the cached answer is the same"
    assert text_width(text) == max(expected)


def test_wide_characters_count_two() -> None:
    assert line_widths("朝阳区 12\nＡB") == (9, 3)
    assert text_width(123.5) == 5  # type: ignore[arg-type]  # numbers are measured as they are shown
