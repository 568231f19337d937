"""catalog: load validated tables by name from data_clean/<source>/, with helpful errors."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

import settlement_research
from settlement_research import catalog
from settlement_research.validation import DataValidationError


@pytest.fixture
def clean(tmp_path: Path, monkeypatch, good_frame) -> Path:
    root = tmp_path / "data_clean"
    (root / "synthetic").mkdir(parents=True)
    # stored with wider integer types: load still returns the model's dtypes
    good_frame.with_columns(pl.col("year", "requested").cast(pl.Int64)).write_parquet(
        root / "synthetic" / "kommune_settlement_year.parquet"
    )
    (root / "synthetic" / "ground_truth.json").write_text(json.dumps({"effect": 0.3}), encoding="utf-8")
    monkeypatch.setenv("SETTLEMENT_RESEARCH_CLEAN", str(root))
    monkeypatch.delenv("SETTLEMENT_RESEARCH_SOURCE", raising=False)
    return root


def test_load_returns_the_validated_table(clean: Path, good_frame) -> None:
    frame = catalog.load("kommune_settlement_year")
    assert frame.equals(good_frame) and frame.schema == good_frame.schema
    assert settlement_research.load("kommune_settlement_year", source="synthetic").equals(good_frame)
    assert catalog.tables() == ["kommune_settlement_year"]
    assert catalog.sources() == ["synthetic"]
    assert catalog.load_json("ground_truth") == {"effect": 0.3}
    assert catalog.load_json("ground_truth.json", source="synthetic") == {"effect": 0.3}


def test_source_from_environment(clean: Path, good_frame, monkeypatch) -> None:
    (clean / "imdi").mkdir()
    good_frame.head(2).write_parquet(clean / "imdi" / "kommune_settlement_year.parquet")
    monkeypatch.setenv("SETTLEMENT_RESEARCH_SOURCE", "imdi")
    assert catalog.load("kommune_settlement_year").height == 2
    monkeypatch.delenv("SETTLEMENT_RESEARCH_SOURCE")
    assert catalog.default_source() == "synthetic"
    assert catalog.load("kommune_settlement_year").height == good_frame.height


def test_only_source_is_the_default_and_several_need_a_choice(clean: Path) -> None:
    (clean / "synthetic").rename(clean / "ssb")
    assert catalog.default_source() == "ssb"
    (clean / "imdi").mkdir()
    with pytest.raises(catalog.CatalogError, match="SETTLEMENT_RESEARCH_SOURCE"):
        catalog.default_source()


def test_no_clean_data_tells_how_to_build_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SETTLEMENT_RESEARCH_CLEAN", str(tmp_path / "nothing"))
    monkeypatch.delenv("SETTLEMENT_RESEARCH_SOURCE", raising=False)
    with pytest.raises(catalog.CatalogError, match="make demo"):
        catalog.load("kommune_settlement_year")


def test_unknown_names_list_the_known_ones(clean: Path) -> None:
    with pytest.raises(catalog.CatalogError, match="known tables: kommune, kommune_settlement_year"):
        catalog.load("kommune_settlement")
    with pytest.raises(catalog.CatalogError, match="tables there: kommune_settlement_year"):
        catalog.load("kommune")
    with pytest.raises(catalog.CatalogError, match="available sources: synthetic"):
        catalog.load("kommune_settlement_year", source="ssb")
    with pytest.raises(catalog.CatalogError, match="available: ground_truth"):
        catalog.load_json("import_summary")


def test_a_file_that_breaks_the_model_is_refused(clean: Path, good_frame) -> None:
    file = clean / "synthetic" / "kommune_settlement_year.parquet"
    good_frame.with_columns(settled=pl.lit(-1, pl.Int32)).write_parquet(file)
    with pytest.raises(DataValidationError, match="settled: must be at least 0"):
        catalog.load("kommune_settlement_year")
