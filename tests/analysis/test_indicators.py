"""Person and municipality-year indicators, checked against hand-computed answers."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from settlement_research.analysis import indicators

D = dt.date


@pytest.fixture()
def register() -> dict[str, pl.DataFrame]:
    settlement = pl.DataFrame({
        "person_id": ["P001", "P002"],
        "settlement_date": [D(2012, 1, 1), D(2012, 6, 1)],
        "kommune_nr": ["0301", "1103"],
        "route": ["ordinary", "ordinary"],
        "months_waited": [4.0, 9.0],
    })
    housing = pl.DataFrame({
        "person_id": ["P001", "P001", "P001", "P002", "P002"],
        "spell_no": [1, 2, 3, 1, 2],
        "kommune_nr": ["0301", "0301", "0219", "1103", "1103"],
        "start_date": [D(2012, 1, 1), D(2012, 7, 1), D(2013, 7, 1), D(2012, 6, 1), D(2016, 1, 1)],
        "end_date": [D(2012, 6, 30), D(2013, 6, 30), None, D(2015, 12, 31), None],
        "tenure": ["temporary", "municipal_rental", "owner_startlan", "municipal_rental", "private_rental"],
        "rooms": [1, 2, 3, 2, 2],
        "persons": [1, 1, 1, 3, 3],
    })
    intro = pl.DataFrame({
        "person_id": ["P001", "P002"], "spell_no": [1, 1], "kommune_nr": ["0301", "1103"],
        "start_date": [D(2012, 3, 1), D(2012, 8, 1)], "end_date": [D(2014, 2, 28), None],
        "end_reason": ["completed", "ongoing"],
    })
    outcome = pl.DataFrame({
        "person_id": ["P001", "P001", "P002"], "year": [2014, 2015, 2015],
        "status": ["education", "work", "other"], "kommune_nr": ["0219", "0219", "1103"],
    })
    return {"settlement": settlement, "housing_spell": housing, "intro_spell": intro, "outcome_year": outcome}


def test_moves_months_and_career_steps_in_24_months(register: dict[str, pl.DataFrame]) -> None:
    out = indicators.housing_stability(register["settlement"], register["housing_spell"], window_months=24)
    p1 = out.filter(pl.col("person_id") == "P001").row(0, named=True)
    # P001 moves on 2012-07-01 and 2013-07-01, both within 24 months; both are steps up the ladder.
    assert p1["moves_24m"] == 2
    assert p1["career_steps_24m"] == 2
    assert p1["months_temporary_24m"] == pytest.approx(181 / indicators.DAYS_PER_MONTH)
    assert p1["months_municipal_24m"] == pytest.approx(364 / indicators.DAYS_PER_MONTH)
    p2 = out.filter(pl.col("person_id") == "P002").row(0, named=True)
    assert p2["moves_24m"] == 0  # the 2016 move is outside the window
    short = indicators.housing_stability(register["settlement"], register["housing_spell"], window_months=5)
    assert short.filter(pl.col("person_id") == "P001")["moves_5m"].item() == 0


def test_tenure_at_and_secondary_migration(register: dict[str, pl.DataFrame]) -> None:
    t = indicators.tenure_at(register["settlement"], register["housing_spell"], years=(1, 3))
    assert t.filter(pl.col("person_id") == "P001").row(0, named=True) == {
        "person_id": "P001", "tenure_1y": "municipal_rental", "tenure_3y": "owner_startlan",
    }
    m = indicators.secondary_migration(register["settlement"], register["housing_spell"], years=2)
    assert m.filter(pl.col("person_id") == "P001")["left_first_kommune_2y"].item() is True
    assert m.filter(pl.col("person_id") == "P002")["left_first_kommune_2y"].item() is False


def test_intro_outcome_one_year_after_leaving(register: dict[str, pl.DataFrame]) -> None:
    out = indicators.intro_outcome(register["intro_spell"], register["outcome_year"])
    assert out.height == 1  # P002 is still in the programme
    row = out.row(0, named=True)
    assert row["outcome_year"] == 2015 and row["in_work_or_education"] is True


def test_kommune_year_frame_refuses_mixed_classifications() -> None:
    a = pl.DataFrame({"kommune_nr": ["0301"], "year": [2014], "classification_year": [2014],
                      "requested": [10], "decided": [5], "settled": [4]})
    b = pl.DataFrame({"kommune_nr": ["0301"], "year": [2014], "classification_year": [2024],
                      "population": [600000], "unemployment_share": [0.03]})
    with pytest.raises(ValueError, match="harmonise"):
        indicators.kommune_year_frame(a, b)
    ok = indicators.kommune_year_frame(a, b.with_columns(pl.lit(2014).alias("classification_year")))
    assert ok["decided_requested_ratio"].item() == 0.5
    assert ok["settled_per_1000"].item() == pytest.approx(4 / 600)


def test_a_new_tenure_in_the_same_dwelling_is_not_a_move(register: dict[str, pl.DataFrame]) -> None:
    spells = register["housing_spell"].with_columns(
        pl.Series("new_address", [True, False, True, True, True]))  # P001's 2nd spell: same dwelling
    out = indicators.housing_stability(register["settlement"], spells, window_months=24)
    assert out.filter(pl.col("person_id") == "P001")["moves_24m"].item() == 1
    assert out.filter(pl.col("person_id") == "P001")["career_steps_24m"].item() == 2  # still a step up


def test_an_incomplete_window_is_null_not_zero_moves(register: dict[str, pl.DataFrame]) -> None:
    # P002 emigrates 2013-03-01, before the 24-month window closes (2014-06-01): censored
    person = pl.DataFrame({"person_id": ["P001", "P002"], "emigration_date": [None, D(2013, 3, 1)]})
    out = indicators.housing_stability(register["settlement"], register["housing_spell"], window_months=24, person=person)
    p2 = out.filter(pl.col("person_id") == "P002").row(0, named=True)
    assert p2["window_complete_24m"] is False and p2["moves_24m"] is None and p2["months_temporary_24m"] is None
    assert out.filter(pl.col("person_id") == "P001")["moves_24m"].item() == 2
    # the data end censors too: a 120-month window reaches past the last date seen
    long = indicators.housing_stability(register["settlement"], register["housing_spell"], window_months=120)
    assert long["moves_120m"].null_count() == 2


def test_emigration_censors_secondary_migration_and_the_landmark_sets_the_risk_set(
    register: dict[str, pl.DataFrame],
) -> None:
    s, h = register["settlement"], register["housing_spell"]
    # P001 moves to 0219 on 2013-07-01: within 2 years of settlement, and within 2 years after 1 year
    base = indicators.secondary_migration(s, h, years=2)
    assert base.filter(pl.col("person_id") == "P001")["left_first_kommune_2y"].item() is True
    after = indicators.secondary_migration(s, h, years=2, from_years=1)
    assert after.filter(pl.col("person_id") == "P001")["left_first_kommune_2y_after_1y"].item() is True
    # a landmark after the move: P001 no longer lives in the first municipality, so is not at risk
    late = indicators.secondary_migration(s, h, years=1, from_years=2)
    assert late.filter(pl.col("person_id") == "P001")["left_first_kommune_1y_after_2y"].item() is None
    # P002 emigrates 2013-03-01 without having left: censored (null), not a stayer
    person = pl.DataFrame({"person_id": ["P001", "P002"], "emigration_date": [None, D(2013, 3, 1)]})
    emig = indicators.secondary_migration(s, h, years=2, person=person)
    assert emig.filter(pl.col("person_id") == "P002")["left_first_kommune_2y"].item() is None
    assert indicators.secondary_migration(s, h, years=2).filter(
        pl.col("person_id") == "P002")["left_first_kommune_2y"].item() is False


def test_landmark_sample_keeps_outcomes_after_the_window(register: dict[str, pl.DataFrame]) -> None:
    tables = dict(register)
    tables["person"] = pl.DataFrame({"person_id": ["P001", "P002"], "birth_year": [1980, 1985],
                                     "emigration_date": [None, None]}).cast({"emigration_date": pl.Date})
    tables["household"] = pl.DataFrame({"household_id": ["H1", "H2"], "household_type": ["single", "couple"],
                                        "size": [1, 2]})
    tables["household_member"] = pl.DataFrame({"household_id": ["H1", "H2"], "person_id": ["P001", "P002"],
                                               "role": ["adult", "adult"]})
    frame = indicators.person_frame(tables, window_months=24)
    # P001 left the programme 2014-02-28: outcome 2015-11-15, after settlement + 24 months (2014-01-01)
    kept, left_out = indicators.landmark_sample(frame, window_months=24)
    assert kept["person_id"].to_list() == ["P001"] and left_out == 0
    kept, left_out = indicators.landmark_sample(indicators.person_frame(tables, window_months=48), window_months=48)
    assert kept.height == 0 and left_out == 1  # a 48-month window closes 2016-01-01, after the outcome


def test_ratios_with_a_zero_base_are_null() -> None:
    a = pl.DataFrame({"kommune_nr": ["0301", "1103"], "year": [2014, 2014], "requested": [0, 10],
                      "decided": [0, 5], "settled": [3, 4]})
    panel = indicators.kommune_year_frame(a)
    assert panel["decided_requested_ratio"].to_list() == [None, 0.5]
    assert panel["settled_requested_ratio"].to_list() == [None, 0.4]
