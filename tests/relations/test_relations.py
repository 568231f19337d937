"""Each cross-table rule: broken (with the exact failing rows) and kept; skipped when tables are absent."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from settlement_research.problems import Problem
from settlement_research.relations import MAX_EXAMPLES, RULES, SUPPRESSED_MAX, check_relations
from settlement_research.testing import conform_to_model, make_aggregates, make_register

D = dt.date


@pytest.fixture(scope="module")
def register() -> dict[str, pl.DataFrame]:
    return make_register(60, seed=2)


@pytest.fixture(scope="module")
def aggregates() -> dict[str, pl.DataFrame]:
    return make_aggregates(8, range(2016, 2022), seed=2)


def only(problems: list[Problem], rule: str) -> list[Problem]:
    return [p for p in problems if p.rule == rule]


def rows_of(problems: list[Problem], rule: str, table: str) -> list[int]:
    found = [p for p in problems if p.rule == rule and p.table == table]
    assert len(found) <= 1
    return found[0].rows if found else []


def set_value(frame: pl.DataFrame, row: int, **values: object) -> pl.DataFrame:
    is_row = pl.int_range(pl.len()) == row
    return frame.with_columns(
        pl.when(is_row).then(pl.lit(v, dtype=frame.schema[c])).otherwise(pl.col(c)).alias(c)
        for c, v in values.items()
    )


def spells(table: str, rows: list[tuple[str, int, dt.date, dt.date | None]]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, schema=["person_id", "spell_no", "start_date", "end_date"], orient="row")
    extra = (
        {"kommune_nr": "0301", "tenure": "private_rental"} if table == "housing_spell"
        else {"kommune_nr": "0301", "end_reason": "completed"}
    )
    return conform_to_model(frame.with_columns(pl.lit(v).alias(k) for k, v in extra.items()), table)


# --- the consistent case -------------------------------------------------------------------------


def test_consistent_tables_have_no_problems(register: dict, aggregates: dict) -> None:
    tables = {**aggregates, **register}  # the register's kommune dimension covers the aggregates'
    assert check_relations(tables) == []


def test_absent_tables_skip_their_rules(register: dict) -> None:
    assert check_relations({}) == []
    lone = {"settlement": set_value(register["settlement"], 0, kommune_nr="9999")}
    assert check_relations(lone) == []  # no kommune, no person table: nothing to check against


def test_every_documented_rule_is_exercised_here() -> None:
    source = open(__file__, encoding="utf-8").read()
    missing = [r.name for r in RULES if f'"{r.name}"' not in source]
    assert not missing, f"relations rules without a test: {missing}"


def test_negative_tolerance_is_refused() -> None:
    with pytest.raises(ValueError, match="national_tolerance"):
        check_relations({}, national_tolerance=-0.1)


# --- municipality codes valid in the year --------------------------------------------------------


def test_code_not_yet_valid_at_settlement(register: dict) -> None:
    settlement = register["settlement"]
    # A 2020 code for a settlement before 2018 (the register settles households 2009-2017).
    broken = set_value(settlement, 3, kommune_nr="3001")
    problems = check_relations({"kommune": register["kommune"], "settlement": broken})
    [problem] = only(problems, "kommune_valid_in_year")
    assert (problem.table, problem.rows, problem.severity) == ("settlement", [3], "error")
    assert problem.examples[0]["kommune_nr"] == "3001" and problem.examples[0]["code_known"] is True


def test_unknown_code_and_classification_year_after_validity(aggregates: dict) -> None:
    housing = aggregates["kommune_housing_year"]
    old_rows = housing.with_row_index("i").filter(
        pl.col("kommune_nr").is_in(aggregates["kommune"].filter(pl.col("valid_to") == 2019)["kommune_nr"].implode())
        & (pl.col("year") == 2019)
    )["i"].to_list()
    i = old_rows[0]
    broken = set_value(set_value(housing, i, classification_year=2020), 0, kommune_nr="9999")
    problems = check_relations({"kommune": aggregates["kommune"], "kommune_housing_year": broken})
    [problem] = only(problems, "kommune_valid_in_year")
    assert problem.rows == sorted({0, i})
    assert {e["code_known"] for e in problem.examples} == {True, False}


def test_codes_valid_at_the_edges_of_their_period(aggregates: dict) -> None:
    kommune = aggregates["kommune"]
    old = kommune.filter(pl.col("valid_to") == 2019)["kommune_nr"][0]
    frame = aggregates["kommune_context_year"].filter(pl.col("kommune_nr") == old).head(1)
    last_year = frame.with_columns(pl.lit(2019, pl.Int16).alias("classification_year"))
    assert check_relations({"kommune": kommune, "kommune_context_year": last_year}) == []
    assert only(
        check_relations({"kommune": kommune, "kommune_context_year": last_year.with_columns(
            pl.lit(2020, pl.Int16).alias("classification_year"))}),
        "kommune_valid_in_year",
    )


def test_null_code_in_outcome_year_is_not_checked(register: dict) -> None:
    outcome = set_value(register["outcome_year"], 1, kommune_nr=None)  # moved abroad
    assert not only(check_relations({"kommune": register["kommune"], "outcome_year": outcome}), "kommune_valid_in_year")


def test_all_failing_rows_but_at_most_20_examples(register: dict) -> None:
    spells_ = register["housing_spell"].with_columns(pl.lit("9999").alias("kommune_nr"))
    [problem] = check_relations({"kommune": register["kommune"], "housing_spell": spells_})
    assert problem.rows == list(range(spells_.height)) and problem.n_rows == spells_.height
    assert spells_.height > MAX_EXAMPLES and len(problem.examples) == MAX_EXAMPLES
    assert [e["row"] for e in problem.examples] == list(range(1, MAX_EXAMPLES + 1))  # 1-based for reviewers
    assert "rows" not in problem.to_dict() and problem.to_dict(with_rows=True)["rows"] == problem.rows


# --- person and household references -------------------------------------------------------------


def test_person_ids_resolve(register: dict) -> None:
    victim = register["intro_spell"]["person_id"][0]  # has an intro spell, so appears everywhere
    person = register["person"].filter(pl.col("person_id") != victim)
    problems = check_relations({**register, "person": person})
    for table in ["settlement", "housing_spell", "intro_spell", "household_member"]:
        expected = register[table].with_row_index("i").filter(pl.col("person_id") == victim)["i"].to_list()
        assert expected and rows_of(problems, "person_exists", table) == expected, table
    assert {p.rule for p in problems} == {"person_exists"}


def test_household_ids_resolve(register: dict) -> None:
    members = set_value(register["household_member"], 4, household_id="HNOSUCH")
    problems = check_relations({**register, "household_member": members})
    assert rows_of(problems, "household_exists", "household_member") == [4]


def test_person_in_two_households(register: dict) -> None:
    members = register["household_member"]
    other = register["household"]["household_id"][-1]
    person = members.filter(pl.col("household_id") != other)["person_id"][0]
    twice = pl.concat([members, members.filter(pl.col("person_id") == person).with_columns(
        pl.lit(other).alias("household_id"))])
    problems = check_relations({**register, "household_member": twice})
    first = members["person_id"].to_list().index(person)
    assert rows_of(problems, "one_household_per_person", "household_member") == [first, members.height]
    assert rows_of(problems, "household_size_matches_members", "household") == [register["household"].height - 1]


def test_household_without_members(register: dict) -> None:
    household = register["household"]
    gone = household["household_id"][0]
    members = register["household_member"].filter(pl.col("household_id") != gone)
    problems = check_relations({"household": household, "household_member": members})
    [problem] = only(problems, "household_size_matches_members")
    assert problem.rows == [0] and problem.examples[0]["members"] == 0


def test_person_without_household(register: dict) -> None:
    members = register["household_member"]
    person = members["person_id"][5]
    problems = check_relations({**register, "household_member": members.filter(pl.col("person_id") != person)})
    assert rows_of(problems, "person_has_household", "person") == [
        register["person"]["person_id"].to_list().index(person)
    ]


def test_household_size_must_match_members(register: dict) -> None:
    household = register["household"]
    problems = check_relations({**register, "household": set_value(household, 2, size=int(household["size"][2]) + 1)})
    [problem] = problems
    assert (problem.rule, problem.rows, problem.examples[0]["members"]) == (
        "household_size_matches_members", [2], household["size"][2]
    )


# --- spells --------------------------------------------------------------------------------------


def test_housing_spells_overlap() -> None:
    frame = spells("housing_spell", [
        ("PA001", 1, D(2015, 1, 1), D(2015, 6, 1)),   # A: consecutive, moving day shared: fine
        ("PA001", 2, D(2015, 6, 1), None),
        ("PB001", 1, D(2015, 1, 1), D(2015, 12, 31)),  # B: spell 2 inside spell 1
        ("PB001", 2, D(2015, 3, 1), D(2015, 4, 1)),
        ("PB001", 3, D(2016, 1, 1), None),             # after both: fine
        ("PC001", 2, D(2017, 1, 1), D(2017, 2, 1)),    # C: spell 1 open, so spell 2 overlaps it
        ("PC001", 1, D(2016, 1, 1), None),
        ("PD001", 1, D(2015, 1, 1), D(2015, 12, 31)),  # D: spell 3 overlaps spell 1, not spell 2
        ("PD001", 2, D(2015, 3, 1), D(2015, 4, 1)),
        ("PD001", 3, D(2015, 5, 1), D(2015, 6, 1)),
    ])
    problems = check_relations({"housing_spell": frame})
    assert rows_of(problems, "housing_spells_do_not_overlap", "housing_spell") == [2, 3, 5, 6, 7, 8, 9]
    assert not only(problems, "one_open_housing_spell")


def test_at_most_one_open_housing_spell() -> None:
    frame = spells("housing_spell", [
        ("PA001", 1, D(2015, 1, 1), None),
        ("PA001", 2, D(2016, 1, 1), None),
        ("PB001", 1, D(2015, 1, 1), None),
    ])
    problems = check_relations({"housing_spell": frame})
    assert rows_of(problems, "one_open_housing_spell", "housing_spell") == [0, 1]


def test_first_housing_spell_starts_at_settlement(register: dict) -> None:
    housing = register["housing_spell"]
    first = housing.with_row_index("i").filter(pl.col("spell_no") == 1)["i"][3]
    later = housing.with_row_index("i").filter(pl.col("spell_no") == 2)["i"][0]
    shifted = set_value(housing, first, start_date=housing["start_date"][first] + dt.timedelta(days=1))
    shifted = set_value(shifted, later, start_date=housing["start_date"][later] + dt.timedelta(days=1))
    problems = check_relations({"settlement": register["settlement"], "housing_spell": shifted})
    assert rows_of(problems, "first_housing_spell_at_settlement", "housing_spell") == [first]


def test_intro_spells_overlap() -> None:
    frame = spells("intro_spell", [
        ("PA001", 1, D(2015, 1, 1), D(2015, 6, 1)),
        ("PA001", 2, D(2015, 5, 1), D(2016, 1, 1)),
        ("PB001", 1, D(2015, 1, 1), D(2015, 6, 1)),
        ("PB001", 2, D(2015, 6, 2), D(2016, 1, 1)),
    ])
    assert rows_of(check_relations({"intro_spell": frame}), "intro_spells_do_not_overlap", "intro_spell") == [0, 1]


# --- warnings on the aggregate settlement numbers ------------------------------------------------


def _national_with(aggregates: dict, year: int, factor: float) -> pl.DataFrame:
    national = aggregates["national_settlement_year"]
    return national.with_columns(
        pl.when(pl.col("year") == year).then((pl.col("settled") * factor).round().cast(pl.Int32))
        .otherwise(pl.col("settled")).alias("settled")
    )


def test_national_sum_mismatch_is_a_warning(aggregates: dict) -> None:
    ksy = aggregates["kommune_settlement_year"]
    total = int(ksy.filter(pl.col("year") == 2018)["settled"].sum())
    national = _national_with(aggregates, 2018, 1.2)
    problems = check_relations({"kommune_settlement_year": ksy, "national_settlement_year": national})
    [problem] = problems
    assert (problem.rule, problem.severity) == ("national_sum_reconciles", "warning")
    expected_national = int(national.filter(pl.col("year") == 2018)["settled"][0])
    assert str(total) in problem.message and str(expected_national) in problem.message
    assert "2018 settled" in problem.message
    loose = check_relations({"kommune_settlement_year": ksy, "national_settlement_year": national},
                            national_tolerance=0.25)
    assert loose == []


def _no_suppression(ksy: pl.DataFrame) -> pl.DataFrame:
    return ksy.with_columns(
        pl.when(pl.col("settled_symbol") == ":").then(pl.lit(".")).otherwise(pl.col("settled_symbol"))
        .alias("settled_symbol")
    )


def test_national_sum_is_exact_without_suppressed_cells(aggregates: dict) -> None:
    ksy = _no_suppression(aggregates["kommune_settlement_year"])
    national = aggregates["national_settlement_year"]
    assert check_relations({"kommune_settlement_year": ksy, "national_settlement_year": national}) == []
    off_by_one = national.with_columns(
        pl.when(pl.col("year") == 2018).then(pl.col("settled") + 1).otherwise(pl.col("settled")).alias("settled")
    )
    [problem] = check_relations({"kommune_settlement_year": ksy, "national_settlement_year": off_by_one})
    assert problem.rule == "national_sum_reconciles" and "gap 1" in problem.message


def test_suppressed_cells_bound_the_gap(aggregates: dict) -> None:
    ksy = _no_suppression(aggregates["kommune_settlement_year"])
    national = aggregates["national_settlement_year"]
    i = ksy.with_row_index("i").filter((pl.col("year") == 2018) & (pl.col("settled") > 0))["i"][0]
    hidden = int(ksy["settled"][i])
    suppressed = set_value(ksy, i, settled=None, settled_symbol=":")
    # one ':' cell may hide 1..SUPPRESSED_MAX persons: a gap of that size is fine, a larger one is not
    exact = national.with_columns(
        pl.when(pl.col("year") == 2018).then(pl.col("settled") - hidden + min(hidden, SUPPRESSED_MAX))
        .otherwise(pl.col("settled")).alias("settled")
    )
    assert check_relations({"kommune_settlement_year": suppressed, "national_settlement_year": exact}) == []
    beyond = exact.with_columns(
        pl.when(pl.col("year") == 2018).then(pl.col("settled") + SUPPRESSED_MAX).otherwise(pl.col("settled"))
        .alias("settled")
    )
    [problem] = check_relations({"kommune_settlement_year": suppressed, "national_settlement_year": beyond})
    assert "1 suppressed cells allow 0..4" in problem.message


def test_unknown_municipality_row_closes_the_gap(aggregates: dict) -> None:
    ksy = _no_suppression(aggregates["kommune_settlement_year"])
    national = aggregates["national_settlement_year"].with_columns(
        pl.when(pl.col("year") == 2018).then(pl.col("settled") + 65).otherwise(pl.col("settled")).alias("settled")
    )
    assert only(check_relations({"kommune_settlement_year": ksy, "national_settlement_year": national}),
                "national_sum_reconciles")
    with_unknown = national.with_columns(
        pl.when(pl.col("year") == 2018).then(65).cast(pl.Int32).alias("settled_unknown_kommune")
    )
    assert check_relations({"kommune_settlement_year": ksy, "national_settlement_year": with_unknown}) == []


def test_partial_year_is_named(aggregates: dict) -> None:
    ksy = aggregates["kommune_settlement_year"].with_columns(
        pl.when(pl.col("year") == 2018).then(pl.date(2018, 9, 30)).otherwise(pl.date(pl.col("year"), 12, 31))
        .alias("period_end")
    )
    [problem] = check_relations({"kommune_settlement_year": ksy})
    assert problem.rule == "partial_year_marked" and "2018-09-30" in problem.message


def test_settled_above_decided_is_a_warning(aggregates: dict) -> None:
    ksy = aggregates["kommune_settlement_year"]
    i = ksy.with_row_index("i").filter(pl.col("decided") > 0)["i"][0]
    decided = int(ksy["decided"][i])
    above = set_value(ksy, i, settled=decided + 1)
    [problem] = check_relations({"kommune_settlement_year": above})
    assert (problem.rule, problem.severity, problem.rows) == ("settled_within_decided", "warning", [i])
    assert check_relations({"kommune_settlement_year": set_value(ksy, i, settled=decided)}) == []
    # No decision registered: nothing to compare with.
    assert check_relations({"kommune_settlement_year": set_value(above, i, decided=None)}) == []


def test_row_numbers_follow_the_input_order(register: dict) -> None:
    members = register["household_member"]
    reversed_ = members.reverse()
    victim = members["person_id"][0]
    problems = check_relations({"person": register["person"].filter(pl.col("person_id") != victim),
                                "household_member": reversed_})
    assert rows_of(problems, "person_exists", "household_member") == [members.height - 1]
