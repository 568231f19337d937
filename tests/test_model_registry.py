"""The registry holds one model per table of DESIGN §6, each fully documented."""

from __future__ import annotations

import pytest

from settlement_research.model import AGGREGATE_TABLES, PERSON_TABLES, TABLES, get_model

EXPECTED = {
    "kommune", "kommune_settlement_year", "kommune_housing_year", "kommune_intro_year",
    "kommune_context_year", "national_settlement_year", "region_pair_coordination",
    "person", "household", "household_member", "settlement", "housing_spell", "intro_spell",
    "outcome_year", "imdi_edition_value",
}


def test_every_design_table_has_a_model() -> None:
    assert set(TABLES) == EXPECTED
    assert set(AGGREGATE_TABLES) | set(PERSON_TABLES) == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_column_has_description_and_unit(name: str) -> None:
    schema = get_model(name).to_schema()
    for column_name, column in schema.columns.items():
        assert column.description, f"{name}.{column_name} has no description"
        assert column.metadata and column.metadata.get("unit"), f"{name}.{column_name} has no unit"


def test_unknown_table_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="kommune_settlement_year"):
        get_model("no_such_table")
