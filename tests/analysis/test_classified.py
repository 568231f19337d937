"""analysis.classified, analysis.overview and the profile's pooled shares on small hand-made frames.

The frames mimic what a multi-edition IMDi build holds: rows of one municipality-year published
under codes of different classification years (Bærum's 2012 under its 2020 code 3024, Harstad's
2012 under 1901 + 1915 before their 2013 merge, Moss under its 2020 merger code).
"""

from __future__ import annotations

import polars as pl
import pytest

from settlement_research.analysis import overview
from settlement_research.analysis import plan as analysis_plan
from settlement_research.analysis import profile as pr
from settlement_research.analysis.classified import (
    exact_predecessors,
    kommune_at,
    on_classification,
)

SETTLEMENT = "kommune_settlement_year"


def _settlement(rows: list[tuple[str, int, int, int | None, str | None]]) -> pl.DataFrame:
    """(kommune_nr, year, classification_year, settled, settled_symbol) with requested = decided = 10."""
    return pl.DataFrame(
        {"kommune_nr": [r[0] for r in rows], "year": [r[1] for r in rows], "classification_year": [r[2] for r in rows],
         "requested": [10] * len(rows), "decided": [10] * len(rows), "settled": [r[3] for r in rows],
         "decision_status": ["as_requested"] * len(rows), "requested_symbol": [None] * len(rows),
         "decided_symbol": [None] * len(rows), "settled_symbol": [r[4] for r in rows]},
        schema_overrides={"year": pl.Int16, "classification_year": pl.Int16, "requested": pl.Int32,
                          "decided": pl.Int32, "settled": pl.Int32, "requested_symbol": pl.String,
                          "decided_symbol": pl.String, "settled_symbol": pl.String},
    )


def test_later_codes_move_back_only_where_the_unit_is_the_same() -> None:
    back = exact_predecessors(2014, 2022, ["3024", "5001", "3002", "1103"])
    # Bærum was only renumbered; 1103 Stavanger (2020: + Finnøy, Rennesøy), 5001 Trondheim (+ Klæbu)
    # and 3002 Moss (0104 Moss + 0136 Rygge) are merges of 2020: not the 2014 units
    assert back == {"3024": "0219"}
    assert exact_predecessors(2014, 2019, ["5001", "1103"]) == {"5001": "1601", "1103": "1103"}  # 2018: renumbered


def test_a_mixed_table_lands_on_one_classification_without_double_counting() -> None:
    frame = _settlement([
        ("3024", 2012, 2022, 101, None),  # Bærum under its 2020 code -> 0219
        ("1901", 2012, 2012, 40, None),  # Harstad + Bjarkøy merged in 2013 -> 1903
        ("1915", 2012, 2012, 2, None),
        ("1901", 2011, 2012, 30, None),
        ("1915", 2011, 2012, None, "."),  # a part without data: the merged cell is unknown, not 30
        ("3002", 2012, 2022, 55, None),  # Moss + Rygge after 2020: cannot be split back
        ("0104", 2012, 2014, 33, None),  # ... but Moss's own row of its time is there
        ("1103", 2012, 2019, 103, None),  # Stavanger, classified 2019
        ("1103", 2012, 2014, 99, None),  # and again in its own classification: this one wins
    ])
    out = on_classification(frame, 2014, SETTLEMENT).sort("kommune_nr", "year")
    got = {(r["kommune_nr"], r["year"]): (r["settled"], r["settled_symbol"]) for r in out.iter_rows(named=True)}
    assert got == {
        ("0104", 2012): (33, None), ("0219", 2012): (101, None), ("1103", 2012): (99, None),
        ("1903", 2011): (None, "."), ("1903", 2012): (42, None),
    }
    assert set(out["classification_year"]) == {2014} and out.columns == frame.columns


def test_a_table_already_on_the_year_is_returned_as_it_is() -> None:
    frame = _settlement([("0143", 2012, 2014, 3, None)])  # a synthetic code no code list knows
    assert on_classification(frame, 2014, SETTLEMENT).equals(frame)


def test_kommune_at_takes_the_unit_of_the_year() -> None:
    kommune = pl.DataFrame({"kommune_nr": ["0716", "0716", "1903"], "kommune_name": ["Våle", "Re", "Harstad"],
                            "valid_from": [1838, 2002, 2013], "valid_to": [2001, 2019, 2019]},
                           schema_overrides={"valid_from": pl.Int16, "valid_to": pl.Int16})
    assert kommune_at(kommune, 2000)["kommune_name"].to_list() == ["Våle"]
    assert kommune_at(kommune, 2014)["kommune_name"].to_list() == ["Re", "Harstad"]


def test_a_year_without_any_known_value_has_no_sum() -> None:
    frame = _settlement([("0301", 2011, 2014, None, "."), ("1103", 2011, 2014, None, "."),
                         ("0301", 2012, 2014, 459, None), ("1103", 2012, 2014, None, ":")])
    sums = overview.national_from_municipalities(frame).sort("year")
    assert sums["settled_sum"].to_list() == [None, 459]
    assert sums["settled_known"].to_list() == [0, 1]


def test_unknown_counts_are_never_pooled_as_zero() -> None:
    # IMDi's 2015 edition: base and a published share, but no count of those in work or education
    intro = pl.DataFrame({"kommune_nr": ["1103", "1102"], "fylke_nr": ["11", "11"], "year": [2012, 2012],
                          "work_education_base": [40, 30], "work_education_count": [None, None]},
                         schema_overrides={"year": pl.Int16, "work_education_count": pl.Int32})
    pooled = pr._work_education_share(intro, ["fylke_nr", "year"])
    assert pooled.height == 0  # no group: the county's share is unknown ('..'), not 0 %
    both = intro.with_columns(pl.Series("work_education_count", [28, None], pl.Int32))
    (row,) = pr._work_education_share(both, ["fylke_nr", "year"]).iter_rows(named=True)
    assert (row["count"], row["base"]) == (28, 40)  # 1102's base without a count is left out


def test_intro_table_shows_the_published_share_and_dots_for_the_rest() -> None:
    frame = pl.DataFrame({"year": [2012, 2014], "work_education_count": [None, None], "work_education_base": [40, None],
                          "work_education_share": [0.68, None], "share_work_education": [None, None],
                          "work_education_count_symbol": [None, None], "share_work_education_symbol": [None, None]},
                         schema_overrides={"year": pl.Int16, "work_education_count": pl.Int32,
                                           "share_work_education": pl.Float64,
                                           "work_education_count_symbol": pl.String,
                                           "share_work_education_symbol": pl.String})
    out = pr.no_data(pr._published_share(frame), ["work_education_count", "share_work_education", "work_education_base"])
    assert out["share_work_education"].to_list() == [pytest.approx(68.0), None]
    assert out["share_work_education_symbol"].to_list() == [None, ".."]
    assert out["work_education_count_symbol"].to_list() == ["..", ".."]
    assert out["work_education_base_symbol"].to_list() == [None, ".."]


def test_year_limits_follow_the_data() -> None:
    assert pr.year_limits([2012]) == (2011.5, 2012.5)
    assert pr.year_limits([2009, 2014, None]) == (2008.5, 2014.5)  # type: ignore[list-item]
    with pytest.raises(ValueError):
        pr.year_limits([])


def test_a_hypothesis_without_an_estimate_is_not_given_a_p_value() -> None:
    family = {"hypotheses": {
        "H8": {"status": "confirmatory", "direction": "positive", "p_one_sided": 1.0, "p_holm": 1.0, "p_bh": 1.0,
               "estimated": False},
        "H7": {"status": "confirmatory", "direction": "positive", "p_one_sided": 0.01, "p_holm": 0.02, "p_bh": 0.02,
               "estimated": True},
    }}
    rows = {r["hypothesis"]: r for r in analysis_plan.family_table(family)}
    assert rows["H8"]["p (one-sided)"] == "not estimated" and rows["H8"]["p Holm"] == "not estimated"
    assert rows["H7"]["p (one-sided)"] != "not estimated"
