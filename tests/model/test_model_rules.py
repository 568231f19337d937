"""Every rule of every model, broken once and kept once.

Column rules (ranges, patterns, category sets, lengths, nullability, dtypes, strictness, primary
key) are read from the schemas, so a new column or check is tested without editing this file; an
unknown check kind fails loudly. Row rules (@dataframe_check) need a hand-made mutation each, and
``test_every_row_rule_has_cases`` fails when a model gains a rule this file does not cover.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pandera.errors as pe
import polars as pl
import pytest

from settlement_research.model import TABLES, get_model, primary_key
from settlement_research.model.base import (
    FINITE_CHECK,
    FULL_YEAR_CHECK,
    FYLKE_NR_PATTERN,
    KOMMUNE_NR_PATTERN,
    PERSON_ID_PATTERN,
)
from settlement_research.testing import valid_frame

TABLE_NAMES = sorted(TABLES)
MATCHING = {KOMMUNE_NR_PATTERN: "0301", FYLKE_NR_PATTERN: "03", PERSON_ID_PATTERN: "P-0001_ab"}
NOT_MATCHING = {KOMMUNE_NR_PATTERN: "301", FYLKE_NR_PATTERN: "3", PERSON_ID_PATTERN: "P!1"}

Value = Any  # a Python value or a polars expression evaluated on the frame


def failures(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The model's failure cases (empty when the frame is valid)."""
    try:
        get_model(table).validate(frame, lazy=True)
    except pe.SchemaErrors as err:
        return err.failure_cases
    return pl.DataFrame(schema={"column": pl.String, "check": pl.String, "index": pl.Int32})


def with_row(frame: pl.DataFrame, row: int, values: dict[str, Value]) -> pl.DataFrame:
    """``frame`` with row ``row`` of each named column replaced, dtypes kept."""
    is_row = pl.int_range(pl.len()) == row
    exprs = []
    for name, value in values.items():
        dtype = frame.schema[name]
        new = value.cast(dtype) if isinstance(value, pl.Expr) else pl.lit(value, dtype=dtype)
        exprs.append(pl.when(is_row).then(new).otherwise(pl.col(name)).alias(name))
    return frame.with_columns(exprs)


def hits(fc: pl.DataFrame, column: str, check: str, row: int | None = None) -> bool:
    sel = fc.filter((pl.col("column") == column) & (pl.col("check") == check))
    if row is not None:
        sel = sel.filter(pl.col("index") == row)
    return sel.height > 0


def column_checks(table: str) -> list[tuple[str, Any, Any]]:
    """(column, check, dtype) for every column check of the table."""
    schema = get_model(table).to_schema()
    return [(name, check, col.dtype.type) for name, col in schema.columns.items() for check in col.checks]


def _step(dtype: Any) -> float:
    return 1 if dtype.is_integer() else 0.001


def breaking_value(check: Any, dtype: Any) -> Any:
    stats = check.statistics
    if check.name == "greater_than_or_equal_to":
        return stats["min_value"] - _step(dtype)
    if check.name == "less_than_or_equal_to":
        return stats["max_value"] + _step(dtype)
    if check.name == "str_matches":
        value = NOT_MATCHING[stats["pattern"]]
        assert not re.search(stats["pattern"], value)
        return value
    if check.name == "isin":
        return "__not_allowed__"
    if check.name == "str_length" and stats["min_value"] is not None:
        return "x" * (stats["min_value"] - 1)
    raise AssertionError(f"no breaking value for check {check.name} {stats}: extend this test")


def passing_value(check: Any, dtype: Any) -> Any:
    """A value at the edge of what the check allows."""
    stats = check.statistics
    if check.name == "greater_than_or_equal_to":
        return stats["min_value"]
    if check.name == "less_than_or_equal_to":
        return stats["max_value"]
    if check.name == "str_matches":
        value = MATCHING[stats["pattern"]]
        assert re.search(stats["pattern"], value)
        return value
    if check.name == "isin":
        return stats["allowed_values"][-1]
    if check.name == "str_length" and stats["min_value"] is not None:
        return "x" * stats["min_value"]
    raise AssertionError(f"no passing value for check {check.name} {stats}: extend this test")


@pytest.fixture(scope="module", params=TABLE_NAMES)
def table(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def frame(table: str) -> pl.DataFrame:
    n = max(len(column_checks(table)), len(get_model(table).to_schema().columns), 3)
    return valid_frame(table, n=n, seed=7)


def test_valid_frame_passes(table: str, frame: pl.DataFrame) -> None:
    fc = failures(table, frame)
    assert fc.height == 0, fc


def test_column_checks_reject_values_outside(table: str, frame: pl.DataFrame) -> None:
    """Row i breaks the i-th column check; each must be reported at its row."""
    cases = column_checks(table)
    broken = frame
    for i, (name, check, dtype) in enumerate(cases):
        broken = with_row(broken, i, {name: breaking_value(check, dtype)})
    fc = failures(table, broken)
    missed = [f"{n}: {c.error} (row {i})" for i, (n, c, _) in enumerate(cases) if not hits(fc, n, c.error, i)]
    assert not missed, f"{table}: rules not enforced: {missed}"


def test_column_checks_accept_edge_values(table: str, frame: pl.DataFrame) -> None:
    cases = column_checks(table)
    edged = frame
    for i, (name, check, dtype) in enumerate(cases):
        edged = with_row(edged, i, {name: passing_value(check, dtype)})
    fc = failures(table, edged)
    wrong = [f"{n}: {c.error}" for n, c, _ in cases if hits(fc, n, c.error)]
    assert not wrong, f"{table}: edge values rejected: {wrong}"


def test_non_nullable_columns_reject_null(table: str, frame: pl.DataFrame) -> None:
    columns = [n for n, c in get_model(table).to_schema().columns.items() if not c.nullable]
    nulled = frame
    for i, name in enumerate(columns):
        nulled = with_row(nulled, i, {name: None})
    fc = failures(table, nulled)
    missed = [n for i, n in enumerate(columns) if not hits(fc, n, "not_nullable", i)]
    assert not missed, f"{table}: nulls accepted in {missed}"


def test_nullable_columns_accept_null(table: str, frame: pl.DataFrame) -> None:
    columns = [n for n, c in get_model(table).to_schema().columns.items() if c.nullable]
    if not columns:
        pytest.skip(f"{table} has no nullable column")
    nulled = frame.with_columns(pl.lit(None, dtype=frame.schema[n]).alias(n) for n in columns)
    fc = failures(table, nulled)
    column_level = fc.filter(pl.col("column").is_in(columns))
    assert column_level.height == 0, column_level


def test_primary_key_is_unique(table: str, frame: pl.DataFrame) -> None:
    key = primary_key(table)
    assert get_model(table).Config.unique == key
    duplicated = with_row(frame, 1, {k: pl.col(k).first() for k in key})
    fc = failures(table, duplicated)
    dups = fc.filter(pl.col("check") == "multiple_fields_uniqueness")
    assert set(dups["index"].to_list()) == {0, 1}, fc


def test_dtypes_are_enforced(table: str, frame: pl.DataFrame) -> None:
    schema = get_model(table).to_schema()
    wrong = frame.with_columns(
        pl.col(name).cast(pl.Categorical if col.dtype.type == pl.String else pl.String)
        for name, col in schema.columns.items()
    )
    fc = failures(table, wrong)
    missed = [n for n, c in schema.columns.items() if not hits(fc, n, f"dtype('{c.dtype.type}')")]
    assert not missed, f"{table}: wrong dtypes accepted in {missed}"


def test_schema_is_strict(table: str, frame: pl.DataFrame) -> None:
    extra = failures(table, frame.with_columns(pl.lit(1).alias("unexpected")))
    assert hits(extra, table, "column_in_schema")
    # A non-key column: with a key column missing, pandera 0.35 on polars 2 crashes in its
    # uniqueness check (ShapeError) instead of reporting; conform() guards against that upstream.
    dropped = [c for c in frame.columns if c not in primary_key(table)][-1]
    missing = failures(table, frame.drop(dropped))
    assert hits(missing, table, "column_in_dataframe")


# --- row rules (@dataframe_check) ----------------------------------------------------------------

D = dt.timedelta
start = pl.col("start_date")
P = pl.date(pl.col("year").cast(pl.Int32), 12, 31)  # a stated period_end inside the row's year
arrival = pl.col("arrival_date")

# (table, check name) -> (mutations that break it, mutations that keep it), each applied to row 0.
ROW_RULES: dict[tuple[str, str], tuple[list[dict[str, Value]], list[dict[str, Value]]]] = {
    ("kommune", "validity_order"): (
        [{"valid_from": 2020, "valid_to": 2010}],
        [{"valid_from": 2015, "valid_to": 2015}, {"valid_from": 2015, "valid_to": None}],
    ),
    ("kommune", "county_prefix"): (
        [{"fylke_nr": "99"}],
        [{"fylke_nr": pl.col("kommune_nr").str.slice(0, 2)}],
    ),
    ("kommune_context_year", "symbols_mean_null"): (
        [{"population": 100, "population_symbol": ":"}, {"imdi_grants_nok": 0.0, "imdi_grants_nok_symbol": "-"}],
        [{"population": None, "population_symbol": ":"}, {"population": 100, "population_symbol": None}],
    ),
    ("kommune_context_year", "immigrants_within_population"): (
        [{"population": 10, "immigrants": 11}],
        [{"population": 10, "immigrants": 10}, {"population": None, "immigrants": 11}],
    ),
    ("kommune_context_year", "short_residence_within_refugees"): (
        [{"refugees": 5, "refugees_short_residence": 6}],
        [{"refugees": 5, "refugees_short_residence": 5}],
    ),
    ("kommune_housing_year", "symbols_mean_null"): (
        [{"refused_share": 0.5, "refused_share_symbol": ":"}],
        [{"refused_share": None, "refused_share_symbol": ":"}],
    ),
    ("kommune_housing_year", "tenure_shares_sum"): (
        [{"municipal_rental_share": 0.6, "private_rental_share": 0.6, "owner_share": 0.0, "temporary_share": 0.0}],
        [{"municipal_rental_share": 0.25, "private_rental_share": 0.25, "owner_share": 0.25, "temporary_share": 0.25},
         {"municipal_rental_share": 1.0, "private_rental_share": None, "owner_share": None, "temporary_share": None}],
    ),
    ("kommune_intro_year", "symbols_mean_null"): (
        [{"participants": 10, "participants_symbol": ":"}],
        [{"participants": None, "participants_symbol": ":"}],
    ),
    ("kommune_intro_year", "count_within_base"): (
        [{"work_education_count": 5, "work_education_base": 4}],
        [{"work_education_count": 4, "work_education_base": 4}],
    ),
    ("kommune_intro_year", "completed_within_leavers"): (
        [{"leavers": 3, "leavers_completed": 4}],
        [{"leavers": 3, "leavers_completed": 3}],
    ),
    ("kommune_settlement_year", "decision_status_agrees"): (
        [
            {"requested": 10, "decided": 5, "decision_status": "as_requested"},
            {"requested": 10, "decided": None, "decision_status": "declined"},
            {"requested": 10, "decided": 0, "decision_status": "no_decision"},
            {"requested": 10, "decided": 12, "decision_status": "fewer"},
            {"requested": None, "decided": 5, "decision_status": "fewer"},
        ],
        [
            {"requested": 10, "decided": 5, "decision_status": "fewer"},
            {"requested": 10, "decided": None, "decision_status": "no_decision"},
            {"requested": 10, "decided": 0, "decision_status": "declined"},
            {"requested": 10, "decided": 10, "decision_status": "as_requested"},
            {"requested": None, "decided": 5, "decision_status": "as_requested"},
        ],
    ),
    ("kommune_settlement_year", "symbols_mean_null"): (
        [{"settled": 5, "settled_symbol": ":"}],
        [{"settled": None, "settled_symbol": ":"}],
    ),
    ("kommune_settlement_year", "nulls_say_why"): (
        [{"period_end": P, "settled": None, "settled_symbol": None},
         {"period_end": P, "requested": None, "requested_symbol": None},
         {"period_end": P, "decided": None, "decided_symbol": None}],
        [{"period_end": P, "settled": None, "settled_symbol": "~"},
         {"period_end": P, "decided": None, "decided_symbol": "."},
         {"period_end": P, "requested": 3, "requested_symbol": None},
         {"period_end": None, "settled": None, "settled_symbol": None}],
    ),
    ("kommune_settlement_year", "period_end_in_year"): (  # valid_frame's rows are of 2012-2022
        [{"period_end": pl.date(pl.col("year").cast(pl.Int32) + 1, 1, 1)}],
        [{"period_end": pl.date(pl.col("year").cast(pl.Int32), 9, 30)}, {"period_end": None}],
    ),
    ("imdi_edition_value", "value_or_symbol"): (
        [{"value": 3.0, "symbol": ":"}, {"value": None, "symbol": None}],
        [{"value": None, "symbol": ":"}, {"value": 0.0, "symbol": None}],
    ),
    ("kommune_settlement_year", "minors_within_settled"): (
        [{"settled": 2, "settled_unaccompanied_minors": 3}],
        [{"settled": 3, "settled_unaccompanied_minors": 3}],
    ),
    ("person", "permit_after_arrival"): (
        [{"permit_date": arrival - D(days=1)}],
        [{"permit_date": arrival}],
    ),
    ("person", "emigration_after_permit"): (
        [{"emigration_date": pl.col("permit_date") - D(days=1)}],
        [{"emigration_date": pl.col("permit_date")}, {"emigration_date": pl.lit(None, pl.Date)}],
    ),
    ("person", "minor_is_minor"): (
        [{"unaccompanied_minor": True, "birth_year": arrival.dt.year() - 30}],
        [{"unaccompanied_minor": True, "birth_year": arrival.dt.year() - 18},
         {"unaccompanied_minor": False, "birth_year": arrival.dt.year() - 30}],
    ),
    ("household", "size_fits_type"): (
        [{"household_type": "single", "size": 2}, {"household_type": "couple", "size": 3},
         {"household_type": "family_with_children", "size": 1}, {"household_type": "single_parent", "size": 1}],
        [{"household_type": "single", "size": 1}, {"household_type": "couple", "size": 2},
         {"household_type": "family_with_children", "size": 2}, {"household_type": "single_parent", "size": 7}],
    ),
    ("housing_spell", "start_before_end"): (
        [{"end_date": start - D(days=1)}],
        [{"end_date": start}, {"end_date": None}],
    ),
    ("intro_spell", "start_before_end"): (
        [{"end_date": start - D(days=1), "end_reason": "completed"}],
        [{"end_date": start, "end_reason": "completed"}],
    ),
    ("intro_spell", "ongoing_means_open"): (
        [{"end_date": start + D(days=10), "end_reason": "ongoing"}, {"end_date": None, "end_reason": "completed"}],
        [{"end_date": None, "end_reason": "ongoing"}, {"end_date": start + D(days=10), "end_reason": "interrupted"}],
    ),
    ("intro_spell", "duration_within_rules"): (
        [{"end_date": start + D(days=3 * 365 + 184), "end_reason": "completed"}],
        [{"end_date": start + D(days=3 * 365 + 183), "end_reason": "completed"}],
    ),
}


def _row_rule_cases(kind: int) -> list[Any]:
    return [
        pytest.param(t, c, m, id=f"{t}.{c}.{i}")
        for (t, c), pair in sorted(ROW_RULES.items())
        for i, m in enumerate(pair[kind])
    ]


def _error_of(table: str, check_name: str) -> str:
    for check in get_model(table).to_schema().checks:
        if check.name == check_name:
            return check.error
    raise AssertionError(f"{table} has no row rule {check_name}")


def test_every_row_rule_has_cases() -> None:
    # the rules of model.base.Model hold for every table: tests/model/test_base_rules.py
    declared = {(t, c.name) for t in TABLE_NAMES for c in get_model(t).to_schema().checks
                if c.name not in (FINITE_CHECK, FULL_YEAR_CHECK)}
    assert declared == set(ROW_RULES), (
        f"untested row rules: {sorted(declared - set(ROW_RULES))}; stale cases: {sorted(set(ROW_RULES) - declared)}"
    )


@pytest.mark.parametrize(("table_name", "check_name", "mutation"), _row_rule_cases(0))
def test_row_rule_rejects(table_name: str, check_name: str, mutation: dict[str, Value]) -> None:
    base = valid_frame(table_name, n=5, seed=3)
    fc = failures(table_name, with_row(base, 0, mutation))
    error = _error_of(table_name, check_name)
    assert hits(fc, table_name, error, 0), f"{error!r} not reported for {mutation}:\n{fc}"
    assert not hits(fc, table_name, error, 1), "only the mutated row may fail"


@pytest.mark.parametrize(("table_name", "check_name", "mutation"), _row_rule_cases(1))
def test_row_rule_accepts(table_name: str, check_name: str, mutation: dict[str, Value]) -> None:
    base = valid_frame(table_name, n=5, seed=3)
    fc = failures(table_name, with_row(base, 0, mutation))
    error = _error_of(table_name, check_name)
    assert not hits(fc, table_name, error), f"{error!r} wrongly reported for {mutation}:\n{fc}"
