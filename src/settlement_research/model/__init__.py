"""The data model: one pandera DataFrameModel per table, grouped by domain.

``TABLES`` maps each table name to its model; everything else (validation, codebook, build,
catalog) looks tables up here.
"""

from __future__ import annotations

import pandera.polars as pa

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
    NationalSettlementYear, RegionPairCoordination,
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


__all__ = ["TABLES", "AGGREGATE_TABLES", "PERSON_TABLES", "get_model", "primary_key", "columns"]
