"""Hostile HR exports whose parse errors would quote a person: an unquoted comma, an ID cell typed as an error, a
NUL in a name, and a person written twice (once in full-width digits)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pandas as pd

from config import Config
from fupin.demo import labor as demo_labor
from fupin.demo.bad_files import BadFile

FULL_WIDTH = {ord(c): ord(c) + 0xFEE0 for c in "0123456789"}


def _people(cfg: Config, n: int = 40, seed: int = 12) -> pd.DataFrame:
    districts = [u.name for u in cfg.districts][:4]
    return demo_labor.generate_labor(cfg, by_district={d: n // 4 for d in districts}, by_paired_county={}, seed=seed)


def unquoted_comma(cfg: Config, path: Path, row: int = 5) -> Path:
    """A CSV whose data row `row` (0-based) has a name with an unquoted comma: one field too many."""
    lines = demo_labor.write_csv(_people(cfg), path).read_text(encoding="utf-8").splitlines()
    fields = lines[row + 1].split(",")
    name = cfg.labor.columns["name"][0]
    at = lines[0].split(",").index(name)
    fields[at] = fields[at][:1] + "," + fields[at][1:]
    lines[row + 1] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def id_typed_as_error(cfg: Config, path: Path, row: int = 3) -> Path:
    """An xlsx whose identity-number cell on data row `row` is typed t="e" but holds the number (calamine quotes it)."""
    people = _people(cfg)
    raw = demo_labor.write_xlsx(people, path).read_bytes()
    col = "ABCDEFGHIJ"[list(people.columns).index(cfg.labor.columns["id_number"][0])]
    ref, number = f"{col}{row + 2}", people[cfg.labor.columns["id_number"][0]].iloc[row]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, n = re.subn(
                    rf'<c r="{ref}"[^>]*>.*?</c>'.encode(),
                    f'<c r="{ref}" t="e"><v>{number}</v></c>'.encode(),
                    data,
                    count=1,
                )
                assert n == 1, ref
            zout.writestr(item, data)
    path.write_bytes(out.getvalue())
    return path


def nul_in_name(cfg: Config, path: Path, row: int = 2) -> Path:
    """A CSV with a NUL inside one name (PostgreSQL's COPY refuses it)."""
    people = _people(cfg)
    name = cfg.labor.columns["name"][0]
    people.loc[people.index[row], name] = people[name].iloc[row][:1] + "\x00" + people[name].iloc[row][1:]
    return demo_labor.write_csv(people, path)


def full_width_twin(cfg: Config, path: Path, row: int = 1) -> Path:
    """A CSV holding one person twice: once as written, once with full-width digits (counted once)."""
    people = _people(cfg)
    ids = cfg.labor.columns["id_number"][0]
    twin = people.iloc[[row]].assign(**{ids: people[ids].iloc[row].translate(FULL_WIDTH)})
    return demo_labor.write_csv(pd.concat([people, twin], ignore_index=True), path)


def hostile_files(cfg: Config, out: Path) -> list[BadFile]:
    """Every file above in `out`, with the rule that must refuse it (None: accepted, the person counted once)."""
    unquoted_comma(cfg, out / "labor_unquoted_comma.csv")
    id_typed_as_error(cfg, out / "labor_id_error_cell.xlsx")
    nul_in_name(cfg, out / "labor_nul_in_name.csv")
    full_width_twin(cfg, out / "labor_full_width_twin.csv")
    return [
        BadFile(
            "labor_unquoted_comma.csv",
            "a name with an unquoted comma (the parser quotes the row)",
            "csv_field_count",
            "labor",
        ),
        BadFile("labor_id_error_cell.xlsx", "an identity number in a cell typed as an error", "error_cell", "labor"),
        BadFile("labor_nul_in_name.csv", "a NUL inside a name", "control_character", "labor"),
        BadFile("labor_full_width_twin.csv", "one person twice, once in full-width digits", None, "labor"),
    ]
