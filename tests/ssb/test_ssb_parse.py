"""Parsing the real recorded SSB and KLASS payloads (skipped when ../shared/real_data is absent)."""

from __future__ import annotations

import json

import polars as pl
import pytest

from settlement_research.sources import klass, ssb

pytestmark = pytest.mark.real_data


def test_real_jsonstat2_parses_to_tidy_frame_with_symbols(real_data):
    raw = (real_data / "misc" / "ssb_jsonstat2_07221_boligprisindeks_with_status.json").read_bytes()
    frame = ssb.parse_jsonstat2(raw)
    assert frame.height == 288
    assert frame.columns == [
        "Region_code", "Region_label", "Boligtype_code", "Boligtype_label",
        "ContentsCode_code", "ContentsCode_label", "Tid_code", "Tid_label", "value", "symbol",
    ]
    assert frame.schema["value"] == pl.Float64 and frame.schema["symbol"] == pl.String
    missing = frame.filter(pl.col("value").is_null())
    assert missing.height == 24 and missing["symbol"].to_list() == [".."] * 24
    assert frame.filter(pl.col("symbol").is_not_null()).height == 24  # symbols only where missing
    # Row-major order: the first values belong to TOTAL / 01 / 2022K1.. as published.
    payload = json.loads(raw)
    assert frame["value"].to_list()[:8] == payload["value"][:8]
    first = frame.row(0, named=True)
    assert (first["Region_code"], first["Region_label"], first["Boligtype_code"], first["Tid_code"]) == (
        "TOTAL", "Hele landet", "01", "2022K1"
    )
    # Cell 176 is the first '..': recompute its coordinates from the sizes [12, 3, 1, 8].
    cell = frame.row(176, named=True)
    assert cell["value"] is None and cell["symbol"] == ".."
    assert (cell["Region_code"], cell["Boligtype_code"], cell["Tid_code"]) == ("007", "02", "2022K1")


def test_real_statbank_csv_parses(real_data):
    raw = (real_data / "misc" / "ssb_csv_11616_sysselsatte_pendling_kommuner_2021.csv").read_bytes()
    frame = ssb.parse_statbank_csv(raw)
    assert frame.columns == ["region_code", "region_label", "Tid_code", "variable_label", "value", "symbol"]
    assert frame["region_code"].n_unique() == 23 and frame.height == 23 * 4
    assert set(frame["Tid_code"]) == {"2021"}
    horten = frame.filter(pl.col("region_code") == "3801")
    assert horten["region_label"].unique().to_list() == ["Horten"]
    assert dict(zip(horten["variable_label"], horten["value"], strict=True))[
        "Sysselsatte personer bosatt i regionen"
    ] == 12807.0
    # ISO-8859-1 decoded correctly, codes kept as 4-character text.
    assert "Tønsberg" in frame["region_label"].to_list() and "Færder" in frame["region_label"].to_list()
    assert frame["region_code"].str.len_chars().unique().to_list() == [4]
    assert frame["value"].null_count() == 0 and frame["symbol"].null_count() == frame.height


def test_real_klass131_codes_parse(real_data):
    frame = klass.parse_codes((real_data / "misc" / "klass131_kommuner_codes_2020-2023.json").read_bytes(), 131)
    assert frame.height == 357 and frame["code"].n_unique() == 357  # 356 municipalities + 9999
    assert frame.filter(pl.col("code") != "9999")["code"].str.contains(r"^\d{4}$").all()
    names = dict(zip(frame["code"], frame["name"], strict=True))
    assert names["0301"] == "Oslo" and names["9999"] == "Uoppgitt"
    assert frame.schema["valid_from"] == pl.Date


def test_real_klass104_counties_parse(real_data):
    frame = klass.parse_codes((real_data / "misc" / "klass104_fylker_codes_2022.json").read_bytes(), 104)
    assert frame.height == 12 and frame["code"].str.len_chars().unique().to_list() == [2]
    assert set(frame["code"]) >= {"03", "11", "30", "50", "54"}
    assert frame["valid_from_in_range"].drop_nulls().cast(pl.String).unique().to_list() == ["2022-07-10"]
    assert frame["valid_from"].null_count() == frame.height  # not given: never invented


def test_statbank_csv_symbols_and_decimal_comma_stay_null():
    text = (
        '"12008: KOSTRA, etter region, statistikkvariabel og år"\n\n'
        '"region";"Kommunalt disponerte boliger per 1000 innbyggere 2019";"Andel avslag 2019"\n'
        '"0104 Moss (-2019)";"20,5";".."\n"3002 Moss";".";":"\n'
    ).encode("iso-8859-1")
    frame = ssb.parse_statbank_csv(text)
    moss = frame.filter(pl.col("region_code") == "0104")
    assert moss["region_label"].to_list() == ["Moss (-2019)"] * 2
    assert moss.sort("variable_label")["value"].to_list() == [None, 20.5]
    new = frame.filter(pl.col("region_code") == "3002")
    assert new["value"].null_count() == 2 and sorted(new["symbol"].to_list()) == [".", ":"]


def test_klass_changes_parse_and_reject_unpadded_codes():
    payload = {"codeChanges": [
        {"oldCode": "0136", "oldName": "Rygge", "newCode": "3002", "newName": "Moss", "changeOccurred": "2020-01-01"},
        {"oldCode": "0104", "oldName": "Moss", "newCode": "3002", "newName": "Moss", "changeOccurred": "2020-01-01"},
        {"oldCode": "1507", "oldName": "Ålesund", "newCode": "1580", "newName": "Haram", "changeOccurred": "2024-01-01"},
    ]}
    frame = klass.parse_changes(json.dumps(payload), 131)
    assert frame.columns == ["old_code", "old_name", "new_code", "new_name", "change_date"]
    assert frame["old_code"].to_list() == ["0104", "0136", "1507"]
    assert frame.schema["change_date"] == pl.Date
    payload["codeChanges"][0]["oldCode"] = "136"
    with pytest.raises(ValueError, match="136"):
        klass.parse_changes(payload, 131)
