"""Fixtures for the harmonisation tests: small hand-made change tables and model-shaped frames."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from settlement_research.harmonize import ChangeTable, load_changes, read_fhi
from settlement_research.model.settlement import SETTLEMENT_MEASURES, decision_status_expr

FHI = "misc/fhi_csdata_norway_locations.xlsx"


def changes_frame(rows: Sequence[tuple[Any, ...]]) -> pl.DataFrame:
    """(old_code, new_code, year[, weight]) rows as a change-table frame."""
    return pl.DataFrame(
        [(*r, None) if len(r) == 3 else r for r in rows],
        schema={"old_code": pl.String, "new_code": pl.String, "year": pl.Int16, "weight": pl.Float64},
        orient="row",
    )


def settlement_frame(rows: Sequence[dict[str, Any]]) -> pl.DataFrame:
    """A kommune_settlement_year frame from partial rows (missing measures and symbols are null)."""
    base: dict[str, Any] = {"year": 2019, "classification_year": 2019}
    full = [{**base, **{m: None for m in SETTLEMENT_MEASURES},
             **{f"{m}_symbol": None for m in SETTLEMENT_MEASURES}, **r} for r in rows]
    schema: dict[str, Any] = {"kommune_nr": pl.String, "year": pl.Int16, "classification_year": pl.Int16}
    schema |= {m: pl.Int32 for m in SETTLEMENT_MEASURES}
    schema |= {f"{m}_symbol": pl.String for m in SETTLEMENT_MEASURES}
    df = pl.DataFrame(full, schema=schema)
    return df.with_columns(decision_status_expr().alias("decision_status")).select(
        "kommune_nr", "year", "classification_year", pl.lit(None, pl.Date).alias("period_end"),
        *SETTLEMENT_MEASURES, "decision_status",
        *[f"{m}_symbol" for m in SETTLEMENT_MEASURES],
    )


@pytest.fixture(scope="session")
def shipped() -> ChangeTable:
    return load_changes()


@pytest.fixture(scope="session")
def fhi(real_data: Path) -> ChangeTable:
    path = real_data / FHI
    if not path.is_file():
        pytest.skip(f"{FHI} is not present")
    return read_fhi(path)


@pytest.fixture()
def make_changes() -> Callable[[Sequence[tuple[Any, ...]]], ChangeTable]:
    return lambda rows: load_changes(changes_frame(rows))


@pytest.fixture()
def make_settlement() -> Callable[[Sequence[dict[str, Any]]], pl.DataFrame]:
    return settlement_frame
