"""derive.py on tiny hand-made frames; every expected number is computed by hand in the comments."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from settlement_research.derive import (
    derive_tables,
    housing_by_kommune_year,
    intro_by_kommune_year,
    merge_with_source,
    settlement_by_kommune_year,
)

D = dt.date


def _row(frame: pl.DataFrame, kommune: str, year: int) -> dict:
    rows = frame.filter((pl.col("kommune_nr") == kommune) & (pl.col("year") == year)).to_dicts()
    assert len(rows) == 1, (kommune, year, rows)
    return rows[0]


def test_settled_counts_routes_through_imdi_and_minors() -> None:
    settlement = pl.DataFrame({
        "person_id": ["p001", "p002", "p003", "p004", "p005"],
        "settlement_date": [D(2014, 1, 5), D(2014, 12, 31), D(2014, 6, 1), D(2015, 1, 1), D(2015, 3, 3)],
        "kommune_nr": ["0301", "0301", "0301", "0301", "1201"],
        "route": ["ordinary", "agreed_self", "own", "ordinary", "ordinary"],
    })
    person = pl.DataFrame({
        "person_id": ["p001", "p002", "p003", "p004", "p005"],
        "unaccompanied_minor": [True, False, True, False, False],
    })
    keys = pl.DataFrame({"kommune_nr": ["1201", "1201", "5001"], "year": [2014, 2015, 2013]})
    out = settlement_by_kommune_year(settlement, person, keys=keys)
    # 0301/2014: p001 + p002 (p003 settled on her own, not through IMDi); p001 is a minor
    assert _row(out, "0301", 2014)["settled"] == 2
    assert _row(out, "0301", 2014)["settled_unaccompanied_minors"] == 1
    assert _row(out, "0301", 2015)["settled"] == 1
    assert _row(out, "1201", 2015)["settled"] == 1
    # a key inside the covered years (2014-2015) without settlements is a true 0 ...
    assert _row(out, "1201", 2014)["settled"] == 0
    # ... one outside them is unknown, so no row
    assert out.filter(pl.col("kommune_nr") == "5001").height == 0
    assert out.schema["settled"] == pl.Int32 and out.schema["year"] == pl.Int16


def _spells() -> pl.DataFrame:
    return pl.DataFrame({
        "person_id": ["pA01", "pA01", "pB01"],
        "spell_no": [1, 2, 1],
        "kommune_nr": ["0301", "0301", "0301"],
        "start_date": [D(2014, 7, 1), D(2015, 7, 1), D(2015, 1, 1)],
        "end_date": [D(2015, 6, 30), None, None],
        "tenure": ["municipal_rental", "private_rental", "owner_startlan"],
    })


def test_housing_person_years_shares_exits_and_throughput() -> None:
    keys = pl.DataFrame({"kommune_nr": ["1201", "1201"], "year": [2015, 2010]})
    out = housing_by_kommune_year(_spells(), keys=keys, as_of=D(2015, 12, 31))
    y14 = _row(out, "0301", 2014)
    # A in municipal rental 1 Jul - 31 Dec 2014 = 184 of 365 days
    assert y14["refugees_housed"] == 1
    assert y14["municipal_dwelling_years"] == pytest.approx(184 / 365)
    assert y14["municipal_rental_share"] == pytest.approx(1.0)
    assert y14["municipal_exits"] == 0
    assert y14["throughput"] == pytest.approx(0.0)
    y15 = _row(out, "0301", 2015)
    # A: 181 days municipal (to 30 Jun) + 184 days private; B: 365 days owner -> 730/365 = 2 person-years
    assert y15["refugees_housed"] == 2
    assert y15["municipal_rental_share"] == pytest.approx(181 / 365 / 2)
    assert y15["private_rental_share"] == pytest.approx(184 / 365 / 2)
    assert y15["owner_share"] == pytest.approx(0.5)
    assert y15["temporary_share"] == pytest.approx(0.0)
    assert y15["municipal_exits"] == 1
    assert y15["municipal_dwelling_years"] == pytest.approx(181 / 365)
    assert y15["throughput"] == pytest.approx(365 / 181)
    empty = _row(out, "1201", 2015)  # covered year, nobody housed: zero counts, undefined shares
    assert empty["refugees_housed"] == 0 and empty["municipal_exits"] == 0
    assert empty["municipal_rental_share"] is None and empty["throughput"] is None
    assert out.filter(pl.col("year") == 2010).height == 0


def test_housing_open_spells_run_to_the_latest_date_by_default() -> None:
    out = housing_by_kommune_year(_spells())  # latest date in the table: 2015-07-01
    y15 = _row(out, "0301", 2015)
    # A: 181 days municipal + 1 day private (1 Jul); B: 1 Jan - 1 Jul = 182 days owner
    assert y15["owner_share"] == pytest.approx(182 / (181 + 1 + 182))
    assert out["year"].max() == 2015


def test_intro_participants_leavers_and_status_one_year_after() -> None:
    intro = pl.DataFrame({
        "person_id": ["p001", "p002", "p003", "p004"],
        "spell_no": [1, 1, 1, 1],
        "kommune_nr": ["0301", "0301", "0301", "1201"],
        "start_date": [D(2013, 8, 1), D(2014, 1, 10), D(2015, 1, 1), D(2014, 3, 1)],
        "end_date": [D(2015, 6, 30), D(2014, 9, 30), None, D(2015, 2, 28)],
        "end_reason": ["completed", "interrupted", "ongoing", "completed"],
    })
    outcome = pl.DataFrame({
        "person_id": ["p002", "p001", "p003", "p002"],
        "year": [2015, 2016, 2016, 2016],
        "status": ["unemployed", "education", "work", "work"],
    })
    out = intro_by_kommune_year(intro, outcome)
    assert _row(out, "0301", 2013)["participants"] == 1
    assert _row(out, "0301", 2014)["participants"] == 2  # p001, p002
    assert _row(out, "0301", 2015)["participants"] == 2  # p001, p003
    r14 = _row(out, "0301", 2014)
    # p002 left (interrupted) in 2014; status Nov 2015: unemployed
    assert (r14["leavers"], r14["leavers_completed"]) == (1, 0)
    assert (r14["work_education_count"], r14["work_education_base"]) == (0, 1)
    assert r14["work_education_share"] == pytest.approx(0.0)
    r15 = _row(out, "0301", 2015)
    assert (r15["leavers"], r15["leavers_completed"]) == (1, 1)
    assert (r15["work_education_count"], r15["work_education_base"], r15["work_education_share"]) == (1, 1, 1.0)
    # p004 left in 2015 but has no 2016 status (e.g. emigrated): not in the base
    k15 = _row(out, "1201", 2015)
    assert (k15["leavers"], k15["work_education_base"], k15["work_education_count"]) == (1, 0, 0)
    assert k15["work_education_share"] is None
    # 2013 leavers would need 2014 status, which the outcome table does not cover: unknown
    r13 = _row(out, "0301", 2013)
    assert r13["work_education_base"] is None and r13["work_education_count"] is None
    assert set(out["window_years"].to_list()) == {1}


def test_merge_puts_derived_columns_in_and_keeps_source_columns() -> None:
    source = pl.DataFrame({
        "kommune_nr": ["0301", "0301", "1201"],
        "year": pl.Series([2014, 2013, 2014], dtype=pl.Int16),
        "classification_year": pl.Series([2014, 2014, 2014], dtype=pl.Int16),
        "requested": pl.Series([10, 5, 3], dtype=pl.Int32),
        "decided": pl.Series([10, None, 0], dtype=pl.Int32),
        "settled": pl.Series([9, 4, None], dtype=pl.Int32),
        "decision_status": ["as_requested", "no_decision", "declined"],
        "settled_symbol": [None, None, ":"],
    })
    derived = derive_tables({"settlement": pl.DataFrame({
        "person_id": ["p001", "p002", "p003"],
        "settlement_date": [D(2014, 2, 1), D(2014, 3, 1), D(2015, 1, 1)],
        "kommune_nr": ["0301", "0301", "5001"],
        "route": ["ordinary", "ordinary", "ordinary"],
    })}, keys={"kommune_settlement_year": source})["kommune_settlement_year"]
    merged, disagreements = merge_with_source(derived, source)
    assert _row(merged, "0301", 2014)["settled"] == 2  # person level wins
    assert _row(merged, "0301", 2014)["requested"] == 10  # source column kept
    assert _row(merged, "0301", 2013)["settled"] == 4  # outside the covered years: source value
    r = _row(merged, "1201", 2014)
    assert r["settled"] == 0 and r["settled_symbol"] is None  # computed, so not suppressed
    new = _row(merged, "5001", 2015)  # only in the person level
    assert new["classification_year"] == 2014 and new["decision_status"] == "no_decision"
    assert new["requested"] is None
    assert disagreements == 1  # 0301/2014: 9 in the source, 2 in the register
    assert merged.height == 4

