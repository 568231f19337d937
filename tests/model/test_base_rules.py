"""Rules every table model inherits from ``model.base.Model``: finite numbers, 4-digit years,
ASCII-digit codes. Checked through pandera directly, through ``validate`` and through ``load``."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandera.errors as pe
import polars as pl
import pytest

from settlement_research.model import TABLES, get_model
from settlement_research.model.base import (
    FINITE_CHECK,
    FULL_YEAR_CHECK,
    Model,
    date_columns,
    float_columns,
)
from settlement_research.testing import valid_frame
from settlement_research.validation import DataValidationError, validate

FLOAT_TABLES = [t for t in TABLES if float_columns(valid_frame(t, n=2).schema)]
DATE_TABLES = [t for t in TABLES if date_columns(valid_frame(t, n=2).schema)]


def _set(frame: pl.DataFrame, column: str, row: int, value: object) -> pl.DataFrame:
    dtype = frame.schema[column]
    return frame.with_columns(
        pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value, dtype)).otherwise(pl.col(column)).alias(column)
    )


def test_every_model_inherits_the_base_rules() -> None:
    for name, model in TABLES.items():
        assert issubclass(model, Model), name
        checks = {c.name for c in model.to_schema().checks}
        assert {FINITE_CHECK, FULL_YEAR_CHECK} <= checks, name
    assert FLOAT_TABLES and DATE_TABLES


@pytest.mark.parametrize("table", FLOAT_TABLES)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_inf_fail_in_every_float_column(table: str, bad: float) -> None:
    base = valid_frame(table, n=5, seed=3)
    for column in float_columns(base.schema):
        frame = _set(base, column, 1, bad)
        result = validate(frame, table)
        finite = [p for p in result.errors if p.rule == "finite"]
        assert [(p.column, p.rows) for p in finite] == [(column, [1])], (column, bad)
        with pytest.raises(pe.SchemaErrors):
            get_model(table).validate(frame, lazy=True)


@pytest.mark.parametrize("table", FLOAT_TABLES)
def test_null_is_still_a_missing_float(table: str) -> None:
    base = valid_frame(table, n=5, seed=3)
    result = validate(base, table)
    assert not [p for p in result.problems if p.rule == "finite"]


@pytest.mark.parametrize("table", DATE_TABLES)
def test_a_date_without_a_four_digit_year_fails(table: str) -> None:
    base = valid_frame(table, n=5, seed=3)
    column = date_columns(base.schema)[0]
    frame = _set(base, column, 2, dt.date(13, 1, 20))
    result = validate(frame, table)
    assert any(p.rule == "four_digit_year" and p.column == column and p.rows == [2] for p in result.errors)


def test_a_csv_date_written_13_01_20_is_refused(tmp_path: Path) -> None:
    from settlement_research.validation import read_table

    person = valid_frame("person", n=3, seed=1)
    file = tmp_path / "person.csv"
    person.write_csv(file)
    text = file.read_text().splitlines()
    header = text[0].split(",")
    arrival = header.index("arrival_date")
    cells = text[2].split(",")
    cells[arrival] = "13-01-20"
    text[2] = ",".join(cells)
    file.write_text("\n".join(text) + "\n")
    result = validate(read_table(file), "person", source=file)
    [problem] = [p for p in result.errors if p.column == "arrival_date"]
    assert problem.rule == "type" and problem.rows == [1] and "4-digit year" in problem.message
    assert problem.examples[0]["row"] == 2 and problem.examples[0]["line"] == 3


@pytest.mark.parametrize("code", ["٠٣٠١", "０３０１", "0301\u200b", "۰۳۰۱"])
def test_municipality_codes_are_ascii_digits_only(code: str) -> None:
    base = valid_frame("kommune_settlement_year", n=4, seed=2)
    frame = _set(base, "kommune_nr", 0, code)
    result = validate(frame, "kommune_settlement_year")
    assert any(p.column == "kommune_nr" and 0 in p.rows for p in result.errors), code


def test_load_refuses_nan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from settlement_research import catalog

    table = FLOAT_TABLES[0]
    frame = valid_frame(table, n=4, seed=1)
    column = float_columns(frame.schema)[0]
    folder = tmp_path / "clean" / "synthetic"
    folder.mkdir(parents=True)
    _set(frame, column, 0, math.nan).write_parquet(folder / f"{table}.parquet")
    monkeypatch.setenv("SETTLEMENT_RESEARCH_CLEAN", str(tmp_path / "clean"))
    with pytest.raises(DataValidationError, match="finite"):
        catalog.load(table, source="synthetic")
