"""Layout and encoding detection and the long records of each layout (self-made fixtures)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from settlement_research.sources.imdi import decode, detect_layout, read_file
from settlement_research.sources.imdi.layouts import (
    FLAT,
    RAW_WIDE,
    WIDE_2022,
    LayoutError,
    raw_wide_indicator_and_year,
)


def test_decode_prefers_strict_utf8_and_falls_back_to_latin1() -> None:
    assert decode("Båtsfjord".encode()) == ("Båtsfjord", "utf-8")
    assert decode("Båtsfjord".encode("latin-1")) == ("Båtsfjord", "latin-1")
    assert decode(b"\xef\xbb\xbfaar") == ("aar", "utf-8-sig")
    assert decode(b"aar")[1] == "ascii"


def test_layouts_are_detected(
    flat_file: Path, flat_id_file: Path, raw_population_file: Path, raw_settlement_file: Path,
    wide_2022_file: Path,
) -> None:
    assert read_file(flat_file).layout == FLAT
    assert read_file(flat_id_file).layout == FLAT
    assert read_file(raw_population_file).layout == RAW_WIDE
    assert read_file(raw_settlement_file).layout == RAW_WIDE
    result = read_file(wide_2022_file)
    assert (result.layout, result.encoding) == (WIDE_2022, "latin-1")


def test_unknown_layout_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(LayoutError):
        read_file(path)
    with pytest.raises(LayoutError):
        detect_layout("")


def test_flat_records_one_per_row_with_geography_and_dims(flat_file: Path) -> None:
    rec = read_file(flat_file).records
    assert rec.height == 11  # 12 lines, one header
    assert rec["row_nr"].to_list() == list(range(2, 13))
    levels = dict(zip(rec["row_nr"], rec["geo_level"], strict=True))
    assert levels[2] == "land" and levels[3] == "kommune" and levels[10] == "bydel"
    assert levels[11] == "naringsregion" and levels[12] == "fylke"
    assert set(rec["dims"]) >= {"bosetting=anmodning", "bosetting=bosatt"}
    assert rec.filter(pl.col("geo_level") == "kommune")["code_raw"].unique().sort().to_list() == ["0101", "0301"]


def test_flat_id_column_names_are_read_like_nr(flat_id_file: Path) -> None:
    rec = read_file(flat_id_file).records
    assert rec["geo_level"].unique().to_list() == ["kommune"]
    assert rec["code_raw"].unique().sort().to_list() == ["0101", "0301"]


def test_raw_wide_header_with_line_break_and_latin1(raw_population_file: Path) -> None:
    result = read_file(raw_population_file)
    assert result.encoding == "latin-1"
    assert result.header_records == 3  # the line break inside a quoted cell is not a record
    rec = result.records
    assert rec.height == 6 * 3  # 6 data rows x 3 value columns
    assert "Båtsfjord" in rec["name"].to_list()
    assert rec["year"].unique().to_list() == [2014]
    assert rec["indicator"].unique().to_list() == ["befolkning_hovedgruppe"]
    assert set(rec["dims"]) == {"innvkat_5=alle;kjonn=alle", "innvkat_5=innvandrere;kjonn=alle"}
    assert set(rec["enhet"]) == {"personer", "prosent"}
    assert "9,906411788" in rec["value_raw"].to_list()  # decimal comma kept raw until parsing
    assert "101" in rec["code_raw"].to_list()  # the reader does not pad; assemble does, deliberately


def test_raw_wide_padding_columns_are_ignored_and_counted(raw_settlement_file: Path) -> None:
    result = read_file(raw_settlement_file)
    assert result.padding_columns == 2
    assert result.records.height == 3 * 4


def test_raw_wide_file_name_gives_indicator_and_year() -> None:
    assert raw_wide_indicator_and_year("09_1-bosatt_anmodede-kommune-2014.csv") == ("bosatt_anmodede", 2014)
    assert raw_wide_indicator_and_year("01-befolkning_hovedgruppe-kommune-2012.csv") == (
        "befolkning_hovedgruppe", 2012,
    )
    with pytest.raises(LayoutError):
        raw_wide_indicator_and_year("bosatt.csv")


def test_wide_2022_records(wide_2022_file: Path) -> None:
    result = read_file(wide_2022_file)
    assert result.header_records == 3
    rec = result.records
    assert rec.height == 4 * 5
    assert rec["code_raw"].unique().sort().to_list() == ["0104", "1103", "3001", "3002"]
    assert rec["indicator"].unique().to_list() == ["bosatt_anmodede"]
    assert set(rec["enhet"]) == {"personer", "prosent"}
    assert rec["default_classification"].unique().to_list() == [2020]
    assert "Inf" in rec["value_raw"].to_list()
