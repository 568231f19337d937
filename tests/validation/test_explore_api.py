"""The notebook-facing API: sr.tables(), sr.describe(), has/load_optional, did-you-mean, pandas in."""

from __future__ import annotations

import inspect
from pathlib import Path

import polars as pl
import pytest

import settlement_research as sr
from settlement_research import catalog
from settlement_research.model import TABLES


@pytest.fixture
def clean(tmp_path: Path, monkeypatch, good_frame) -> Path:
    root = tmp_path / "data_clean"
    for source, n in (("synthetic", None), ("imdi", 2)):
        (root / source).mkdir(parents=True)
        frame = good_frame if n is None else good_frame.head(n)
        frame.write_parquet(root / source / "kommune_settlement_year.parquet")
    monkeypatch.setenv("SETTLEMENT_RESEARCH_CLEAN", str(root))
    monkeypatch.delenv("SETTLEMENT_RESEARCH_SOURCE", raising=False)
    return root


def test_tables_lists_every_table_with_grain_and_rows_per_source(clean: Path, good_frame) -> None:
    listing = sr.tables()
    assert isinstance(listing, pl.DataFrame)
    assert listing["table"].to_list() == list(TABLES)
    assert listing.columns == ["table", "title", "grain", "level", "rows_imdi", "rows_synthetic"]
    ksy = listing.filter(pl.col("table") == "kommune_settlement_year").row(0, named=True)
    assert ksy["grain"] == "kommune_nr × year"
    assert (ksy["rows_synthetic"], ksy["rows_imdi"]) == (good_frame.height, 2)
    assert listing.filter(pl.col("table") == "person")["rows_synthetic"].item() is None
    assert listing.filter(pl.col("table") == "person")["level"].item().startswith("person")


def test_tables_without_any_clean_data_still_lists_the_model(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SETTLEMENT_RESEARCH_CLEAN", str(tmp_path / "none"))
    listing = sr.tables()
    assert listing.height == len(TABLES) and listing.columns == ["table", "title", "grain", "level"]


def test_describe_gives_terms_units_and_checks_in_text_and_html() -> None:
    d = sr.describe("kommune_settlement_year")
    settled = d.columns.filter(pl.col("column") == "settled").row(0, named=True)
    assert settled["norwegian"] == "bosatt"
    assert settled["unit"] == "persons" and settled["dtype"] == "Int32"
    assert settled["nullable"] is True and settled["checks"] == "at least 0"
    assert "refugees settled" in settled["description"]
    assert d.columns.filter(pl.col("in_key"))["column"].to_list() == ["kommune_nr", "year"]
    text = str(d)
    assert "kommunenummer" in text and "vedtatt" in text and "between 1990 and 2035" in text
    assert "unaccompanied minors settled must not exceed all settled" in text  # a row rule
    page = d._repr_html_()
    assert page.count("<tr>") == 1 + d.columns.height
    assert "<th" in page and "bosatt" in page


def test_describe_escapes_model_text(monkeypatch) -> None:
    from settlement_research import explore

    d = explore.describe("kommune")
    hostile = d.columns.with_columns(description=pl.lit("<script>alert(1)</script>"))
    page = explore.TableDescription(**{**d.__dict__, "columns": hostile})._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_unknown_names_get_did_you_mean(clean: Path) -> None:
    with pytest.raises(catalog.CatalogError, match="did you mean 'kommune_settlement_year'"):
        sr.load("kommune_setlement_year", source="synthetic")
    with pytest.raises(catalog.CatalogError, match="did you mean 'settlement'"):
        sr.describe("settlment")
    with pytest.raises(catalog.CatalogError, match="did you mean 'synthetic'"):
        sr.load("kommune_settlement_year", source="synthetc")
    with pytest.raises(catalog.CatalogError, match="did you mean"):
        sr.has("kommune_setlement_year")


def test_has_and_load_optional(clean: Path, good_frame) -> None:
    assert sr.has("kommune_settlement_year", source="synthetic")
    assert not sr.has("person", source="synthetic")
    assert not sr.has("kommune_settlement_year", source="ssb")
    assert sr.load_optional("person", source="synthetic") is None
    loaded = sr.load_optional("kommune_settlement_year", source="imdi")
    assert loaded is not None and loaded.height == 2
    assert sr.has("kommune_settlement_year")  # synthetic is the default source
    (clean / "synthetic").rename(clean / "ssb")
    with pytest.raises(catalog.CatalogError, match="none chosen"):  # two sources, no choice
        sr.has("kommune_settlement_year")


def test_has_is_false_without_clean_data(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SETTLEMENT_RESEARCH_CLEAN", str(tmp_path / "none"))
    monkeypatch.delenv("SETTLEMENT_RESEARCH_SOURCE", raising=False)
    assert sr.has("kommune_settlement_year") is False
    assert sr.load_optional("kommune_settlement_year") is None


def test_load_and_validate_show_their_parameters() -> None:
    load_params = inspect.signature(sr.load).parameters
    assert list(load_params) == ["name", "source"]
    assert all(p.kind is not inspect.Parameter.VAR_KEYWORD for p in load_params.values())
    assert "source:" in (sr.load.__doc__ or "")
    assert list(inspect.signature(sr.validate).parameters) == ["frame", "table", "source", "coerce"]


def test_validate_accepts_pandas_like_polars(good_frame) -> None:
    pytest.importorskip("pandas")
    bad = good_frame.with_columns(
        settled=pl.when(pl.int_range(pl.len()) == 1).then(-5).otherwise(pl.col("settled"))
    )
    for frame in (bad, bad.to_pandas()):
        result = sr.validate(frame, "kommune_settlement_year")
        assert not result.valid
        assert [p.rows for p in result.errors if p.column == "settled"] == [[1]]
    good = sr.validate(good_frame.to_pandas(), "kommune_settlement_year")
    assert good.valid and good.frame is not None and good.frame.schema == good_frame.schema
    indexed = good_frame.to_pandas().set_index(["kommune_nr", "year"])  # the key as index
    assert sr.validate(indexed, "kommune_settlement_year").valid
    with pytest.raises(TypeError, match="polars or pandas"):
        sr.validate([1, 2, 3], "kommune_settlement_year")


def test_validate_command_suggests_a_table(tmp_path: Path, good_frame, capsys) -> None:
    from settlement_research.cli import main

    file = tmp_path / "data.csv"
    good_frame.write_csv(file)
    assert main(["validate", str(file), "--table", "kommune_setlement_year"]) == 2
    assert "did you mean 'kommune_settlement_year'" in capsys.readouterr().err


def test_json_sidecar_suggestion(clean: Path) -> None:
    (clean / "synthetic" / "ground_truth.json").write_text("{}", encoding="utf-8")
    with pytest.raises(catalog.CatalogError, match="did you mean 'ground_truth'"):
        catalog.load_json("ground_trut", source="synthetic")
