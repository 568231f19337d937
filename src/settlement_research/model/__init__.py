"""The data model: one pandera DataFrameModel per table, grouped by domain.

``TABLES`` maps each table name to its model; everything else (validation, codebook, build,
catalog) looks tables up here.
"""

from __future__ import annotations

from typing import TypeVar

import pandera.polars as pa
import polars as pl

from settlement_research.model.editions import ImdiEditionValue
from settlement_research.model.geography import Kommune, KommuneContextYear, RegionPairCoordination
from settlement_research.model.housing import HousingSpell, KommuneHousingYear
from settlement_research.model.introduction import IntroSpell, KommuneIntroYear, OutcomeYear
from settlement_research.model.person import Household, HouseholdMember, Person
from settlement_research.model.settlement import (
    KommuneSettlementYear,
    NationalSettlementYear,
    Settlement,
)

_MODELS: list[type[pa.DataFrameModel]] = [
    Kommune, KommuneSettlementYear, KommuneHousingYear, KommuneIntroYear, KommuneContextYear,
    NationalSettlementYear, RegionPairCoordination, ImdiEditionValue,
    Person, Household, HouseholdMember, Settlement, HousingSpell, IntroSpell, OutcomeYear,
]

TABLES: dict[str, type[pa.DataFrameModel]] = {m.Config.name: m for m in _MODELS}
AGGREGATE_TABLES = [n for n, m in TABLES.items() if m.Config.metadata["level"] == "aggregate"]
PERSON_TABLES = [n for n, m in TABLES.items() if m.Config.metadata["level"] == "person"]


def get_model(name: str) -> type[pa.DataFrameModel]:
    """The model of a table, with a helpful error for unknown names."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; known tables: {', '.join(TABLES)}") from None


def primary_key(name: str) -> list[str]:
    return list(get_model(name).Config.metadata["primary_key"])


def columns(name: str) -> list[str]:
    return list(get_model(name).to_schema().columns)


def dtypes(name: str) -> dict[str, pl.DataType]:
    """Column -> polars dtype of a table's model, in model order."""
    return {col: c.dtype.type for col, c in get_model(name).to_schema().columns.items()}


def measure_columns(name: str) -> list[str]:
    """Columns of a table that have a ``<column>_symbol`` companion (values that can be missing)."""
    cols = columns(name)
    return [c for c in cols if f"{c}_symbol" in cols]


def _flagged(flag: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, model in TABLES.items():
        cols = [c for c, column in model.to_schema().columns.items() if (column.metadata or {}).get(flag)]
        if cols:
            out[name] = cols
    return out


def identifier_columns(level: str | None = "person") -> dict[str, list[str]]:
    """Table -> its columns declared as identifiers (``id_col``), for tables of ``level``
    (``None`` = every table). The disclosure gate collects the values of exactly these."""
    return {n: c for n, c in _flagged("identifier").items() if level is None or TABLES[n].Config.metadata["level"] == level}


def public_columns() -> dict[str, list[str]]:
    """Table -> its columns declared public statistics (``col(..., public=True)``): a small number
    from one of them may be shown; every other small count must come out of the disclosure API."""
    return _flagged("public")


Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def cast_to_model(frame: Frame, name: str) -> Frame:
    """The model's columns in model order, strictly cast; absent columns become typed nulls.

    For sources and test makers that build a table themselves; other columns are dropped. (Reading
    untrusted input goes through ``validation.conform``, which reports what cannot be cast.)
    """
    present = set(frame.collect_schema().names())
    return frame.select(
        [pl.col(c).cast(t) if c in present else pl.lit(None, t).alias(c) for c, t in dtypes(name).items()]
    )


__all__ = [
    "TABLES", "AGGREGATE_TABLES", "PERSON_TABLES", "get_model", "primary_key", "columns", "dtypes",
    "cast_to_model", "identifier_columns", "measure_columns", "public_columns",
]
