"""Views that read restricted data, directly or through another view, are never offered to analysts."""
from __future__ import annotations

from sqlalchemy import column, select, table

from config import Config
from warehouse.access import analyst_views, restricted_views
from warehouse.schema import restricted_labor_person
from warehouse.views import View, all_views


def test_views_over_restricted_data_are_withheld(cfg: Config) -> None:
    names = View("v_names", "one row per person", {"name": "name"},
                 lambda c: select(restricted_labor_person.c.name))
    via = View("v_names_again", "same", {"name": "name"},
               lambda c: select(table("v_names", column("name")).c.name), depends_on=("v_names",))
    views = [*all_views(), names, via]
    assert restricted_views(cfg, views) == {"v_names", "v_names_again"}
    offered = {v.name for v in analyst_views(cfg, views)}
    assert offered == {v.name for v in all_views()} and "v_concept_month" in offered
