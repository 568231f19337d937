"""validate(): each kind of rule rejects a bad frame, on collected data, with plain-language problems."""

from __future__ import annotations

import polars as pl
import pytest

from settlement_research.validation import (
    DataValidationError,
    conform,
    validate,
    validate_or_raise,
)

TABLE = "kommune_settlement_year"
AS_GIVEN = [pytest.param(lambda f: f, id="DataFrame"), pytest.param(lambda f: f.lazy(), id="LazyFrame")]


def only(result, rule):
    found = [p for p in result.problems if p.rule == rule]
    assert len(found) == 1, [(p.rule, p.message) for p in result.problems]
    return found[0]


@pytest.mark.parametrize("given", AS_GIVEN)
def test_a_valid_frame_passes(good_frame, given) -> None:
    result = validate(given(good_frame), TABLE)
    assert result.valid, [p.message for p in result.problems]
    assert result.problems == []
    assert result.valid_rows.height == good_frame.height and result.failing_rows.height == 0
    assert result.frame.schema == good_frame.schema


@pytest.mark.parametrize("given", AS_GIVEN)
def test_range_check_rejects_a_negative_count(good_frame, given) -> None:
    bad = good_frame.with_columns(settled=pl.when(pl.int_range(pl.len()) == 3).then(-1).otherwise("settled"))
    result = validate(given(bad), TABLE)
    assert not result.valid
    p = only(result, "greater_than_or_equal_to")
    assert (p.column, p.message, p.rows, p.n_rows) == ("settled", "must be at least 0", [3], 1)
    assert p.examples == [{"row": 4, "kommune_nr": "5001", "year": 2014, "settled": -1}]


@pytest.mark.parametrize("given", AS_GIVEN)
def test_uniqueness_check_rejects_a_duplicated_key(good_frame, given) -> None:
    bad = pl.concat([good_frame, good_frame.slice(1, 1)])
    result = validate(given(bad), TABLE)
    p = only(result, "unique_key")
    assert p.message == "duplicate key (kommune_nr, year): 2 rows share it"
    assert p.rows == [1, 5]
    assert [e["row"] for e in p.examples] == [2, 6]
    assert result.failing_rows["row_nr"].to_list() == [1, 5]


@pytest.mark.parametrize("given", AS_GIVEN)
def test_dataframe_rule_rejects_an_inconsistent_decision_status(good_frame, given) -> None:
    # row 2 (1-based): 30 decided of 40 requested is "fewer", not "as_requested"
    bad = good_frame.with_columns(
        decision_status=pl.when(pl.col("kommune_nr") == "1103").then(pl.lit("as_requested"))
        .otherwise("decision_status")
    )
    result = validate(given(bad), TABLE)
    p = only(result, "decision_status_agrees")
    assert p.message.startswith("decision_status disagrees with requested/decided")
    assert p.rows == [1] and p.column is None
    assert p.examples[0]["row"] == 2
    assert p.examples[0]["decision_status"] == "as_requested"  # the whole row is shown
    assert set(good_frame.columns) <= set(p.examples[0])


def test_category_must_be_one_of_the_documented_codes(good_frame) -> None:
    bad = good_frame.with_columns(decision_status=pl.lit("maybe"))
    p = only(validate(bad, TABLE), "isin")
    assert p.message == "must be one of: as_requested, fewer, declined, no_decision"
    assert p.n_rows == good_frame.height


def test_lost_leading_zero_gets_a_hint_and_is_never_padded(good_frame) -> None:
    bad = good_frame.with_columns(kommune_nr=pl.col("kommune_nr").str.replace("^0", ""))
    result = validate(bad, TABLE)
    p = only(result, "str_matches")
    assert p.message == "must be a 4-digit municipality code like 0301"
    assert p.rows == [0, 4]
    assert p.hint == "a leading zero was probably lost (0301?)"
    assert [e["kommune_nr"] for e in p.examples] == ["301", "301"]
    assert "0301" not in result.valid_rows["kommune_nr"].to_list()
    assert result.failing_rows["kommune_nr"].to_list() == ["301", "301"]


def test_empty_required_value(good_frame) -> None:
    bad = good_frame.with_columns(kommune_nr=pl.when(pl.col("year") == 2015).then(None).otherwise("kommune_nr"))
    p = only(validate(bad, TABLE), "not_nullable")
    assert (p.column, p.message, p.rows) == ("kommune_nr", "must not be empty", [4])


def test_values_that_cannot_be_cast_are_row_problems_not_nulls(good_frame, as_text) -> None:
    text = as_text(good_frame).with_columns(
        requested=pl.Series(["100", "abc", "..", " 60 ", "25"]),
        year=pl.Series(["2014", "2014", "2014", "2014", "20x5"]),
        settled=pl.Series(["90", "28", "12.0", "0", "118"]),
    )
    result = validate(text, TABLE)
    types = {p.column: p for p in result.problems if p.rule == "type"}
    assert set(types) == {"requested", "year"}
    assert types["requested"].rows == [1, 2]
    assert types["requested"].message == "must be a whole number"
    assert "requested_symbol" in types["requested"].hint
    assert types["year"].rows == [4]
    # the unparseable year is reported once, not again as "must not be empty"
    assert not [p for p in result.problems if p.rule == "not_nullable"]
    assert result.failing_rows["row_nr"].to_list() == [1, 2, 4]
    assert result.failing_rows["requested"].to_list() == ["abc", "..", "25"]  # original text kept
    valid = result.valid_rows
    assert valid.schema["requested"] == pl.Int32 and valid["requested"].to_list() == [100, 60]


def test_fractional_numbers_are_not_truncated_to_whole_numbers(good_frame) -> None:
    floats = good_frame.with_columns(pl.col("settled").cast(pl.Float64))
    floats = floats.with_columns(settled=pl.when(pl.col("kommune_nr") == "1103").then(27.5).otherwise("settled"))
    result = validate(floats, TABLE)
    p = only(result, "type")
    assert (p.column, p.rows) == ("settled", [1])
    assert result.valid_rows.height == good_frame.height - 1


def test_missing_required_column_fails_the_whole_table(good_frame) -> None:
    result = validate(good_frame.drop("decision_status"), TABLE)
    p = only(result, "missing_column")
    assert p.severity == "error" and p.rows == []
    assert result.valid_rows.height == 0
    assert result.failing_rows.height == good_frame.height
    assert result.failing_rows["reason"].str.contains("decision_status").all()


def test_missing_optional_column_is_a_warning_and_unexpected_column_an_error(good_frame) -> None:
    result = validate(good_frame.drop("family_reunified_symbol"), TABLE)
    assert result.valid and [p.severity for p in result.problems] == ["warning"]
    assert result.frame.schema["family_reunified_symbol"] == pl.String

    result = validate(good_frame.with_columns(comment=pl.lit("x")), TABLE)
    p = only(result, "unexpected_column")
    assert not result.valid and p.column == "comment"


def test_all_rows_are_kept_and_examples_capped(good_frame) -> None:
    base = good_frame.filter(pl.col("year") == 2014)
    many = pl.concat([base.with_columns(year=pl.lit(y, pl.Int16)) for y in range(1990, 2020)])
    many = many.with_columns(settled=pl.when(pl.col("kommune_nr") == "5001").then(-1).otherwise("settled"))
    result = validate(many, TABLE)
    p = only(result, "greater_than_or_equal_to")
    assert p.n_rows == 30 and len(p.rows) == 30 and len(p.examples) == 20
    assert result.valid_rows.height + result.failing_rows.height == many.height
    assert set(result.failing_rows["row_nr"]) == set(p.rows)


def test_reason_joins_every_broken_rule(good_frame) -> None:
    bad = good_frame.with_columns(
        settled=pl.when(pl.col("kommune_nr") == "1103").then(-1).otherwise("settled"),
        kommune_nr=pl.col("kommune_nr").str.replace("^1103$", "113"),
    )
    reason = validate(bad, TABLE).failing_rows.filter(pl.col("row_nr") == 1)["reason"].item()
    assert "kommune_nr: must be a 4-digit municipality code like 0301" in reason
    assert "settled: must be at least 0" in reason
    assert reason.count("; ") >= 2  # also: minors exceed settled


def test_validate_or_raise_names_file_row_and_rule(good_frame) -> None:
    assert validate_or_raise(good_frame.lazy(), TABLE).equals(good_frame)
    bad = good_frame.with_columns(requested=pl.lit(-5, pl.Int32))
    with pytest.raises(DataValidationError) as info:
        validate_or_raise(bad, TABLE, source="data_clean/synthetic/kommune_settlement_year.parquet")
    text = str(info.value)
    assert "kommune_settlement_year.parquet" in text
    assert "requested: must be at least 0" in text and "row 1, 2" in text
    assert info.value.result is not None and not info.value.result.valid


def test_conform_adds_orders_and_casts(good_frame, as_text) -> None:
    shuffled = as_text(good_frame).drop("decided_symbol")
    shuffled = shuffled.select(list(reversed(shuffled.columns)))
    out = conform(shuffled.lazy(), TABLE)
    assert out.columns == good_frame.columns
    assert out.schema == good_frame.schema
    assert out["decided_symbol"].null_count() == out.height
    with pytest.raises(DataValidationError, match="kommune_nr"):
        conform(good_frame.drop("kommune_nr"), TABLE)
    with pytest.raises(DataValidationError, match="requested"):
        conform(as_text(good_frame).with_columns(requested=pl.lit("many")), TABLE)


def test_coerce_false_reports_wrong_dtypes(good_frame) -> None:
    result = validate(good_frame.with_columns(pl.col("year").cast(pl.Int64)), TABLE, coerce=False)
    assert not result.valid
    assert any(p.rule == "type" and p.column == "year" for p in result.problems)


def test_person_ids_never_appear_in_examples() -> None:
    person = pl.DataFrame({
        "household_id": ["H0001", "H0002"], "household_type": ["single", "couple"], "size": [1, 3],
    }, schema={"household_id": pl.String, "household_type": pl.String, "size": pl.Int16})
    result = validate(person, "household")
    assert not result.valid
    text = repr([p.examples for p in result.problems])
    assert "H0002" not in text and "(hidden)" in text
    assert result.failing_rows["household_id"].to_list() == ["H0002"]


def test_a_quarantine_file_can_be_validated_again(good_frame) -> None:
    bad = good_frame.with_columns(settled=pl.lit(-1, pl.Int32))
    failing = validate(bad, TABLE).failing_rows
    again = validate(failing, TABLE)
    assert {p.rule for p in again.errors} >= {"unexpected_column", "greater_than_or_equal_to"}
    assert again.failing_rows.height == failing.height
    assert again.failing_rows["reason_input"].to_list() == failing["reason"].to_list()
