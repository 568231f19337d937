"""The test-data makers in settlement_research.testing produce what they promise."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings

from settlement_research.model import PERSON_TABLES, TABLES, get_model
from settlement_research.relations import check_relations
from settlement_research.testing import (
    empty_frame,
    frames,
    kommune_dimension,
    make_aggregates,
    make_register,
    registers,
    valid_frame,
)

FEW = settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _validate(table: str, frame: pl.DataFrame) -> None:
    get_model(table).validate(frame, lazy=True)


@pytest.mark.parametrize("table", sorted(TABLES))
def test_hypothesis_frames_pass_the_model(table: str) -> None:
    @FEW
    @given(frames(table, max_rows=15))
    def check(frame: pl.DataFrame) -> None:
        assert 1 <= frame.height <= 15
        assert frame.columns == list(get_model(table).to_schema().columns)
        _validate(table, frame)

    check()


@settings(max_examples=6, deadline=None)
@given(registers(max_persons=25))
def test_hypothesis_registers_pass_models_and_relations(register: dict[str, pl.DataFrame]) -> None:
    for table, frame in register.items():
        _validate(table, frame)
    assert check_relations(register) == []


@pytest.mark.parametrize("table", sorted(TABLES))
def test_valid_frame_is_deterministic_and_sized(table: str) -> None:
    a, b = valid_frame(table, n=12, seed=5), valid_frame(table, n=12, seed=5)
    assert a.height == 12
    assert a.equals(b)
    assert not a.equals(valid_frame(table, n=12, seed=6))


@pytest.mark.parametrize("table", sorted(TABLES))
def test_zero_rows_have_the_model_schema(table: str) -> None:
    frame = valid_frame(table, n=0)
    assert frame.height == 0
    assert frame.schema == empty_frame(table).schema
    _validate(table, frame)


def test_impossible_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="at most 46"):
        valid_frame("national_settlement_year", n=47)
    with pytest.raises(ValueError, match="n must be"):
        valid_frame("person", n=-1)
    with pytest.raises(KeyError, match="unknown table"):
        valid_frame("no_such_table")


def test_register_is_consistent_and_covers_the_edges() -> None:
    register = make_register(300, seed=11)
    assert set(register) == set(PERSON_TABLES) | {"kommune"}
    assert register["person"].height == register["household_member"].height == 300
    assert check_relations(register) == []
    spells = register["housing_spell"]
    # Open and closed spells, several spells per person, codes renumbered in 2020, people abroad.
    assert spells["end_date"].null_count() > 0 and spells["end_date"].null_count() < spells.height
    assert spells["spell_no"].max() > 1
    assert spells.filter(pl.col("start_date").dt.year() >= 2020)["kommune_nr"].str.slice(0, 2).is_in(
        ["30", "34", "38", "42", "46", "50", "54", "03", "11", "15", "18"]
    ).all()
    assert register["outcome_year"]["kommune_nr"].null_count() > 0
    assert register["person"]["unaccompanied_minor"].any()
    assert set(register["household"]["household_type"]) == {"single", "couple", "family_with_children", "single_parent"}


def test_aggregates_are_consistent_across_the_reform() -> None:
    tables = make_aggregates(12, range(2017, 2023), seed=4)
    for table, frame in tables.items():
        _validate(table, frame)
    assert check_relations(tables) == []
    ksy = tables["kommune_settlement_year"]
    assert set(ksy["decision_status"]) == {"as_requested", "fewer", "declined", "no_decision"}
    assert ksy["settled_symbol"].drop_nulls().len() > 0 or ksy["requested_symbol"].drop_nulls().len() > 0
    # Renumbered municipalities appear with the old code to 2019 and the new one from 2020.
    old = ksy.filter(pl.col("year") <= 2019)["kommune_nr"].unique()
    new = ksy.filter(pl.col("year") >= 2020)["kommune_nr"].unique()
    assert old.len() == new.len() == 12


def test_kommune_dimension_has_all_2014_codes() -> None:
    dim = kommune_dimension()
    assert dim.filter(pl.col("valid_from") < 2020).height == 428
    _validate("kommune", dim)
