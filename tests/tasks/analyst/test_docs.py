"""docs/warehouse.md is generated from config/ and the schema, and the committed copy must match it."""

from __future__ import annotations

from pathlib import Path

from config import Config
from tasks.analyst.docs import render_warehouse_doc
from warehouse.access import restricted_views
from warehouse.schema import metadata
from warehouse.views import all_views

DOC = Path(__file__).resolve().parents[3] / "docs" / "warehouse.md"


def render(cfg: Config) -> str:
    views = all_views()
    return render_warehouse_doc(cfg, metadata, views, restricted_views(cfg, views))


def test_committed_data_dictionary_is_up_to_date(cfg: Config) -> None:
    assert DOC.read_text(encoding="utf-8") == render(cfg), "docs/warehouse.md is stale: run `fupin docs` and commit it"


def test_dictionary_names_every_table_view_column_and_indicator(cfg: Config) -> None:
    text = render(cfg)
    for table in metadata.tables.values():
        assert f"### `{table.name}`" in text and table.comment in text
    for view in all_views():
        assert f"### `{view.name}`" in text and f"Grain: {view.grain}." in text
        assert all(f"| `{name}` |" in text for name in view.columns)
    for form in cfg.forms:
        section = text.split(f"### {form.code} ")[1].split("\n### ")[0]
        for r in form.rows:
            assert f"| {r.row_no} | {r.category} | {r.indicator} | {r.measure_unit} | {r.concept or ''} |" in section


def test_a_changed_declaration_changes_the_dictionary(cfg: Config) -> None:
    from dataclasses import replace

    form = cfg.forms[0]
    renamed = form.model_copy(
        update={"rows": (form.rows[0].model_copy(update={"indicator": "改名的指标"}), *form.rows[1:])}
    )
    assert "改名的指标" in render(replace(cfg, forms=(renamed, *cfg.forms[1:])))
    assert "改名的指标" not in render(cfg)
