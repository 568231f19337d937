"""Import of the self-made files: mapping, symbols, padding, cross-file agreement, validation."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from settlement_research.model import get_model
from settlement_research.sources.imdi import assemble as asm
from settlement_research.sources.imdi import import_files
from settlement_research.sources.imdi.measures import NOT_MAPPED


def _row(frame: pl.DataFrame, kommune_nr: str, year: int) -> dict:
    rows = frame.filter((pl.col("kommune_nr") == kommune_nr) & (pl.col("year") == year)).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def test_flat_settlement_maps_counts_symbols_and_status(flat_file: Path) -> None:
    result = import_files([flat_file])
    s = result.tables["kommune_settlement_year"]
    halden = _row(s, "0101", 2014)
    assert (halden["requested"], halden["decided"], halden["settled"]) == (35, None, 22)
    assert halden["decided_symbol"] == "." and halden["decision_status"] == "no_decision"
    oslo = _row(s, "0301", 2014)
    assert oslo["decided"] == 0 and oslo["decision_status"] == "declined"
    assert oslo["settled"] is None and oslo["settled_symbol"] == ":"  # never 0
    assert halden["classification_year"] == 2014
    national = result.tables["national_settlement_year"]
    assert national.to_dicts()[0]["settled"] == 120
    assert national["source"][0].startswith("IMDi") and national["reference_date"][0].year == 2014
    assert result.unexplained == 0


def test_every_row_is_imported_or_rejected_with_a_reason(flat_file: Path) -> None:
    result = import_files([flat_file])
    f = result.summary["files"][0]
    assert f["read"] == 11 and f["unexplained"] == 0
    assert f["imported"] == 6 + 1  # 6 municipal counts + 1 national settled
    reasons = f["rejected_by_reason"]
    assert reasons == {
        asm.BYDEL: 1, asm.NARINGSREGION: 1, asm.FYLKE: 1, asm.UNMAPPED: 1,
    }
    rejected = result.rejected
    assert rejected.height == 4 and rejected["reason"].null_count() == 0
    assert set(rejected.columns) == set(asm.REJECTED_COLUMNS)


def test_percent_becomes_share_only_where_the_model_has_one(flat_low_income_file: Path) -> None:
    result = import_files([flat_low_income_file])
    c = result.tables["kommune_context_year"]
    assert _row(c, "0101", 2013)["persistent_low_income_share"] == pytest.approx(0.137)
    oslo = _row(c, "0301", 2013)
    assert oslo["persistent_low_income_share"] is None and oslo["persistent_low_income_share_symbol"] == ":"
    reasons = result.summary["files"][0]["rejected_by_reason"]
    # 9999 'uoppgitt kommune' is kept apart on the national row for settlement counts only
    assert reasons == {asm.UNMAPPED: 1, asm.OUT_OF_RANGE: 1, asm.UNKNOWN_UNMAPPED: 1}


def test_composition_percentages_are_not_taken_for_rates(write_file) -> None:
    path = write_file(
        "sosialhjelp.csv",
        '"aar","bydel_nr","innvkat_5","kjonn","enhet","tabellvariabel","tabell_navn","fylke_nr","kommune_nr"\n'
        '"2013","NULL","alle","alle","prosent","100","sosialhjelp","NULL","0301"\n'
        '"2013","NULL","innvandrere","alle","prosent","58.4","sosialhjelp","NULL","0301"\n',
    )
    result = import_files([path])
    assert result.tables == {}
    (reason,) = result.summary["files"][0]["rejected_by_reason"]
    assert reason == NOT_MAPPED["sosialhjelp"] and result.unexplained == 0


def test_raw_wide_restores_leading_zeros_and_reads_decimal_commas(raw_population_file: Path) -> None:
    result = import_files([raw_population_file])
    c = result.tables["kommune_context_year"]
    assert "0101" in c["kommune_nr"].to_list() and "101" not in c["kommune_nr"].to_list()
    assert _row(c, "0301", 2014)["population"] == 634463
    assert _row(c, "2028", 2014)["population"] == 2242  # '2 242': space as thousands separator
    f = result.summary["files"][0]
    assert f["rows_with_leading_zero_restored"] == 2  # 101 and 301, recorded
    reasons = f["rejected_by_reason"]
    assert reasons[asm.ENDED] == 3  # 1901 Harstad (-2012) in a 2014 file
    assert reasons[asm.UNKNOWN_UNMAPPED] == 3  # 9999 'Uoppgitt kommune': not a settlement count
    assert reasons[asm.UNMAPPED] == 4  # the immigrants' percentage of the 4 remaining rows
    assert f["unexplained"] == 0


def test_flat_layout_never_pads(write_file) -> None:
    text = (
        '"aar","fylke_nr","bosetting","enhet","tabellvariabel","tabell_navn","kommune_nr"\n'
        '"2014","NULL","bosatt","personer","5","bosatt_anmodede","301"\n'
    )
    result = import_files([write_file("bosatt_anmodede.csv", text)])
    assert "kommune_settlement_year" not in result.tables
    assert result.summary["files"][0]["rejected_by_reason"] == {asm.BAD_CODE: 1}


def test_raw_and_flat_agree_and_merge(flat_file: Path, raw_settlement_file: Path, flat_id_file: Path) -> None:
    result = import_files([flat_file, raw_settlement_file, flat_id_file])
    assert result.assembled.conflicts.is_empty()
    s = result.tables["kommune_settlement_year"]
    assert s.filter(pl.col("kommune_nr") == "0101").height == 1
    assert _row(s, "1756", 2014)["decided"] == 1000  # '1 000'
    kommune = result.tables["kommune"]
    assert _row_k(kommune, "1756")["kommune_name"] == "Inderøy"
    assert _row_k(kommune, "0101")["imdi_region"] == "ost"


def _row_k(frame: pl.DataFrame, kommune_nr: str) -> dict:
    rows = frame.filter(pl.col("kommune_nr") == kommune_nr).to_dicts()
    assert len(rows) == 1
    return rows[0]


def test_disagreeing_files_are_rejected_as_conflicts(flat_file: Path, write_file) -> None:
    other = write_file(
        "bosatt_vedtak.csv",
        '"aar","fylke_nr","bosetting","enhet","tabellvariabel","tabell_navn","kommune_nr"\n'
        '"2014","NULL","anmodning","personer","36","bosatt_vedtak","0101"\n'
        '"2014","NULL","bosatt","personer","22","bosatt_vedtak","0101"\n'
        '"2014","NULL","anmodning","personer","0","bosatt_vedtak","0301"\n',
    )
    result = import_files([flat_file, other])
    conflicts = result.assembled.conflicts
    assert sorted(zip(conflicts["kommune_nr"], conflicts["target"], strict=True)) == [
        ("0101", "requested"), ("0301", "requested"),
    ]
    s = result.tables["kommune_settlement_year"]
    assert _row(s, "0101", 2014)["requested"] is None  # neither value wins silently
    assert _row(s, "0101", 2014)["settled"] == 22  # the agreeing measure is merged
    assert result.unexplained == 0
    assert result.summary["files"][1]["rejected_by_reason"] == {asm.CONFLICT: 2}


def test_wide_2022_symbols_markers_and_classification(wide_2022_file: Path) -> None:
    result = import_files([wide_2022_file])
    s = result.tables["kommune_settlement_year"]
    halden = _row(s, "3001", 2020)
    assert halden["settled"] is None and halden["settled_symbol"] == ":"
    assert halden["classification_year"] == 2020
    moss_old = _row(s, "0104", 2019)
    assert moss_old["requested"] == 36 and moss_old["classification_year"] == 2019
    assert _row(s, "3002", 2020)["settled_symbol"] == "."
    reasons = result.summary["files"][0]["rejected_by_reason"]
    assert reasons[asm.ENDED] == 4  # Moss (t.o.m. 2019), 2020 cells
    assert reasons[asm.NOT_YET] == 1  # Moss (f.o.m. 2020), 2019 cell
    assert reasons[asm.UNMAPPED] == 3  # the percentages of Halden (Inf), new Moss and Stavanger
    # 3001/3002 (Viken, 2020) get the agency regions of their 2014 predecessors (0101; 0104+0136)
    kommune = result.tables["kommune"]
    assert result.summary["kommune_written"] is True and result.summary["kommune_not_in_dimension"] == []
    moss = _row_k(kommune, "3002")
    assert (moss["fylke_nr"], moss["fylke_name"], moss["valid_from"], moss["valid_to"]) == ("30", "Viken", 2020, 2023)
    assert (moss["imdi_region"], moss["husbanken_region"]) == ("ost", "ost")
    # complete for the classification years used (2019-2022), not just the codes in the file
    assert kommune.filter((pl.col("valid_from") <= 2019) & (pl.col("valid_to").fill_null(9999) >= 2019)).height == 422
    assert kommune.filter((pl.col("valid_from") <= 2022) & (pl.col("valid_to").fill_null(9999) >= 2022)).height == 356


def test_symbols_never_become_zero(flat_file: Path, wide_2022_file: Path, raw_population_file: Path) -> None:
    result = import_files([flat_file, wide_2022_file, raw_population_file])
    for name, frame in result.tables.items():
        for col in frame.columns:
            if col.endswith("_symbol"):
                value = col.removesuffix("_symbol")
                bad = frame.filter(pl.col(col).is_not_null() & pl.col(value).is_not_null())
                assert bad.is_empty(), (name, col)
    assert (result.tables["kommune_settlement_year"]["settled_symbol"].is_not_null()).sum() >= 2


def test_outputs_pass_their_models(flat_file: Path, raw_settlement_file: Path, wide_2022_file: Path,
                                   flat_low_income_file: Path, raw_population_file: Path) -> None:
    result = import_files([flat_file, raw_settlement_file, wide_2022_file, flat_low_income_file,
                           raw_population_file])
    assert set(result.tables) == {
        "kommune", "kommune_settlement_year", "kommune_context_year", "national_settlement_year",
        "imdi_edition_value",
    }
    without_wide = import_files([flat_file, raw_settlement_file, raw_population_file])
    for tables in (result.tables, without_wide.tables):
        assert "kommune" in tables
        for name, frame in tables.items():
            get_model(name).validate(frame, lazy=True)


def test_stale_code_is_recoded_to_its_namesake_and_recorded(write_file) -> None:
    text = (
        '"aar","innvkat_3","vreg_3","enhet","tabellvariabel","tabell_navn","kommune_nr"\n'
        '"2013","alle","alle","prosent","3.5","vedvarende_lavinntekt","1901"\n'
        '"2013","alle","alle","prosent","2.5","vedvarende_lavinntekt","1902"\n'
    )
    result = import_files([write_file("vedvarende_lavinntekt.csv", text)])
    c = result.tables["kommune_context_year"]
    assert sorted(c["kommune_nr"]) == ["1902", "1903"]
    assert result.summary["files"][0]["codes_recoded"] == [
        {"from": "1901", "to": "1903", "year": 2013, "records": 1}
    ]


def test_part_above_whole_is_rejected_not_validated_away(write_file) -> None:
    grunn = write_file(
        "befolkning_innvandringsgrunn.csv",
        '"aar","innvgrunn_5","kjonn","enhet","tabellvariabel","tabell_navn","kommune_nr"\n'
        '"2014","flukt","alle","personer","12","befolkning_innvandringsgrunn","0439"\n',
    )
    botid = write_file(
        "flyktning_botid_flytting.csv",
        '"aar","botid_3","forste_bosettingskommune","enhet","tabellvariabel","tabell_navn","kommune_nr"\n'
        '"2014","0_4","alle","personer","13","flyktning_botid_flytting","0439"\n',
    )
    result = import_files([grunn, botid])
    row = _row(result.tables["kommune_context_year"], "0439", 2014)
    assert row["refugees"] == 12 and row["refugees_short_residence"] is None
    assert result.summary["files"][1]["rejected_by_reason"] == {asm.PART_ABOVE_WHOLE: 1}


def test_kommune_validity_is_klass_and_names_come_from_the_files(
    write_file, raw_population_file: Path, flat_file: Path
) -> None:
    wide = write_file(
        "wide.csv",
        "Region;Navn;Bosetting: Faktisk bosetting;Bosetting: Faktisk bosetting\n"
        ";;Enhet: Personer;Enhet: Personer\n;;År: 2019;År: 2020\n"
        "K0104;Moss (t.o.m. 2019);36;\nK1103;Stavanger;120;72\n",
        "latin-1",
    )
    result = import_files([wide, raw_population_file, flat_file])
    kommune = result.tables["kommune"]
    get_model("kommune").validate(kommune, lazy=True)
    # validity is KLASS's (shipped code list), names are the files' where they give one
    moss = _row_k(kommune, "0104")
    assert (moss["valid_from"], moss["valid_to"], moss["kommune_name"]) == (1838, 2019, "Moss")
    stavanger = _row_k(kommune, "1103")
    assert (stavanger["valid_from"], stavanger["valid_to"]) == (1838, None)
    assert (stavanger["imdi_region"], stavanger["husbanken_region"]) == ("vest", "vest")
    oslo = _row_k(kommune, "0301")
    assert (oslo["valid_to"], oslo["kommune_name"]) == (None, "Oslo kommune")
    assert _row_k(kommune, "0105")["kommune_name"] == "Sarpsborg"  # not in the files: KLASS name
    harstad = _row_k(kommune, "1903")
    assert harstad["fylke_name"] == "Troms" and harstad["husbanken_region"] == "bodo"
