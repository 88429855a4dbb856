"""Read the example questions of docs/queries.md (title, SQL, expected answer) and render answers as Markdown."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, text

SECTION = re.compile(r"^## (Q\d+)\. (.+)$", re.MULTILINE)
SQL_BLOCK = re.compile(r"```sql\n(.*?)```", re.DOTALL)
TABLE_LINE = re.compile(r"^\|.*\|$")


@dataclass(frozen=True)
class Query:
    """One example question: its id (Q1...), title, SQL and the expected answer table."""

    qid: str
    title: str
    sql: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _cells(line: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in line.strip()[1:-1].split("|"))


def parse_queries(markdown: str) -> list[Query]:
    """Every '## Qn. title' section with its ```sql block and the Markdown table that follows it."""
    heads = list(SECTION.finditer(markdown))
    out = []
    for head, nxt in zip(heads, [*heads[1:], None], strict=False):
        body = markdown[head.end() : nxt.start() if nxt else len(markdown)]
        sql = SQL_BLOCK.search(body)
        if not sql:
            raise ValueError(f"{head[1]} has no ```sql block")
        table = [ln for ln in body[sql.end() :].splitlines() if TABLE_LINE.match(ln.strip())]
        if len(table) < 2:
            raise ValueError(f"{head[1]} has no expected answer table after its SQL")
        out.append(
            Query(head[1], head[2].strip(), sql[1].strip(), _cells(table[0]), tuple(_cells(ln) for ln in table[2:]))
        )
    return out


def show(value: object) -> str:
    """One cell as both databases agree on it: numbers to 4 decimals without trailing zeros, NULL spelled out."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (float, Decimal)):
        text = f"{float(value):.4f}".rstrip("0").rstrip(".")
        return "0" if text == "-0" else text
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value).replace("|", "\\|")


def answer(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(show(v) for v in row) for row in rows)


def render_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def replace_answers(markdown: str, answers: dict[str, str]) -> str:
    """The document with each question's answer table replaced by the given rendered table."""
    heads = list(SECTION.finditer(markdown))
    pieces, last = [], 0
    for head, nxt in zip(heads, [*heads[1:], None], strict=False):
        end = nxt.start() if nxt else len(markdown)
        body = markdown[head.end() : end]
        sql = SQL_BLOCK.search(body)
        assert sql is not None, f"{head[1]} has no ```sql block"  # parse_queries rejects such a document first
        lines = body[sql.end() :].split("\n")
        idx = [i for i, ln in enumerate(lines) if TABLE_LINE.match(ln.strip())]
        new = lines[: idx[0]] + answers[head[1]].split("\n") + lines[idx[-1] + 1 :] if idx else lines
        pieces += [markdown[last : head.end()], body[: sql.end()], "\n".join(new)]
        last = end
    return "".join(pieces) + markdown[last:]


def run_query(engine: Engine, sql: str) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """A query's column names and its rows as the answer tables show them."""
    with engine.connect() as conn:
        result = conn.execute(text(sql))
        columns = tuple(result.keys())
        return columns, answer(columns, result.all())


def with_answers(markdown: str, engine: Engine) -> str:
    """The document with every question's answer table replaced by what its query returns on `engine`."""
    tables = {q.qid: render_table(*run_query(engine, q.sql)) for q in parse_queries(markdown)}
    return replace_answers(markdown, tables)
