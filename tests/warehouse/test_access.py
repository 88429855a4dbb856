"""Views that read restricted data, directly or through another view, are never offered to analysts."""

from __future__ import annotations

from sqlalchemy import column, func, select, table

from config import Config
from warehouse.access import analyst_views, restricted_views
from warehouse.schema import restricted_labor_person
from warehouse.views import View, all_views


def test_views_over_restricted_data_are_withheld(cfg: Config) -> None:
    names = View("v_names", "one row per person", {"name": "name"}, lambda c: select(restricted_labor_person.c.name))
    via = View(
        "v_names_again",
        "same",
        {"name": "name"},
        lambda c: select(table("v_names", column("name")).c.name),
        depends_on=("v_names",),
    )
    views = [*all_views(), names, via]
    assert restricted_views(cfg, views) == {"v_names", "v_names_again"}
    offered = {v.name for v in analyst_views(cfg, views)}
    assert offered == {v.name for v in all_views()} and "v_concept_month" in offered


def test_a_counting_view_over_restricted_rows_is_offered_only_while_it_outputs_no_restricted_column(
    cfg: Config,
) -> None:
    counts = View(
        "v_counts",
        "one row per district",
        {"district_key": "d", "persons": "n"},
        lambda c: select(restricted_labor_person.c.district_key, func.count().label("persons")).group_by(
            restricted_labor_person.c.district_key
        ),
        counts_restricted=True,
    )
    people = restricted_labor_person.alias("p")
    leaky = View(
        "v_leaky",
        "one row per person",
        {"person_key": "k"},
        lambda c: select(select(people).subquery().c.person_key),
        counts_restricted=True,
    )
    assert restricted_views(cfg, [counts, leaky]) == {"v_counts", "v_leaky"}
    plain = View(
        "v_plain",
        "one row",
        {"persons": "n"},
        lambda c: select(func.count().label("persons")).select_from(restricted_labor_person),
        counts_restricted=True,
    )
    assert restricted_views(cfg, [plain, leaky]) == {"v_leaky"}
    assert "v_labor_retention" in {v.name for v in analyst_views(cfg, all_views())}
