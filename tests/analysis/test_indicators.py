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
