"""The IMDi source's `kommune` dimension: complete from the shipped code list, regions for codes of
any classification, and records the dimension cannot hold rejected (so the relation rule passes)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from settlement_research.relations import check_relations
from settlement_research.sources.imdi import assemble as asm
from settlement_research.sources.imdi import codes, import_files
from settlement_research.sources.imdi.dimension import region_disagreements

WIDE_HEAD = (
    "Region;Navn;Bosetting: Faktisk bosetting;Bosetting: Faktisk bosetting;Bosetting: Faktisk bosetting\n"
    ";;Enhet: Personer;Enhet: Personer;Enhet: Personer\n;;År: 2004;År: 2019;År: 2022\n"
)


def _one(frame: pl.DataFrame, kommune_nr: str) -> dict:
    rows = frame.filter(pl.col("kommune_nr") == kommune_nr).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def _kommune_errors(tables: dict[str, pl.DataFrame]) -> list:
    return [p for p in check_relations(tables) if p.rule == "kommune_valid_in_year"]


def test_flat_only_import_gets_all_428_municipalities_of_2014(flat_file: Path) -> None:
    result = import_files([flat_file])
    kommune = result.tables["kommune"]
    assert kommune.height == 428  # the whole classification, not just the two codes in the file
    assert kommune["kommune_nr"].is_unique().all()
    halden = _one(kommune, "0101")
    assert (halden["kommune_name"], halden["fylke_name"], halden["imdi_region"]) == ("Halden", "Østfold", "ost")
    tromso = _one(kommune, "1902")  # Troms is split between two Husbanken offices
    assert (tromso["imdi_region"], tromso["husbanken_region"]) == ("nord", "hammerfest")
    assert _one(kommune, "1903")["husbanken_region"] == "bodo"
    assert _kommune_errors(result.tables) == []
    # the relation rule can fail: a code the dimension lacks is reported
    broken = {**result.tables, "kommune": kommune.filter(pl.col("kommune_nr") != "0101")}
    assert [p.table for p in _kommune_errors(broken)] == ["kommune_settlement_year"]


def test_codes_of_later_classifications_get_their_predecessors_regions(write_file) -> None:
    wide = write_file(
        "wide.csv",
        WIDE_HEAD + "K3005;Drammen;;;40\nK5001;Trondheim (f.o.m. 2020);;;80\nK1601;Trondheim (t.o.m. 2019);;70;\n",
        "latin-1",
    )
    result = import_files([wide])
    kommune = result.tables["kommune"]
    drammen = _one(kommune, "3005")  # 0602 Drammen + 0625 Nedre Eiker (Buskerud) + 0711 Svelvik (Vestfold)
    assert (drammen["fylke_name"], drammen["imdi_region"], drammen["husbanken_region"]) == (
        "Viken", "indre_ost", "sor",  # the namesake predecessor's (REGION_RULE)
    )
    assert "3005" in region_disagreements()
    trondheim = _one(kommune, "5001")
    assert (trondheim["fylke_nr"], trondheim["imdi_region"], trondheim["valid_from"]) == ("50", "midt_norge", 2018)
    # IMDi's label says 1601 lasted to 2019; KLASS ended it in 2017: its classification is 2017
    s = result.tables["kommune_settlement_year"]
    assert s.filter(pl.col("kommune_nr") == "1601")["classification_year"].to_list() == [2017]
    assert _kommune_errors(result.tables) == []


def test_codes_ended_before_2011_are_known_and_unknown_codes_rejected(write_file) -> None:
    # 1572 Tustna ended in 2006 (merged into 1576 Aure): the shipped list (geo) knows it
    named = write_file("named.csv", WIDE_HEAD + "K1572;Tustna (t.o.m. 2005);3;;\nK1103;Stavanger;;;9\n", "latin-1")
    result = import_files([named])
    tustna = _one(result.tables["kommune"], "1572")
    assert (tustna["kommune_name"], tustna["valid_from"], tustna["valid_to"]) == ("Tustna", 1838, 2005)
    assert tustna["imdi_region"] == "midt_norge"
    s = result.tables["kommune_settlement_year"]
    assert s.filter(pl.col("kommune_nr") == "1572").select("year", "classification_year", "settled").rows() == [
        (2004, 2005, 3)]
    assert _kommune_errors(result.tables) == []
    assert codes.known("1572") and codes.validity("1572") == (1838, 2005)

    # 0921 is no municipality code of any year the list covers (1991-2025): rejected, not invented
    unknown = write_file("unknown.csv", WIDE_HEAD + "K0921;;3;;\nK1103;Stavanger;;;9\n", "latin-1")
    result = import_files([unknown])
    assert "0921" not in set(result.tables["kommune"]["kommune_nr"])
    assert "0921" not in set(result.tables["kommune_settlement_year"]["kommune_nr"])


def test_ended_code_booked_beside_its_successor_is_added_to_it(write_file) -> None:
    head = '"aar","fylke_nr","tilskudd_til_kommuner","enhet","tabellvariabel","tabell_navn","kommune_nr"\n'
    rows = [("2011", "1729", "300"), ("2012", "1729", "100"), ("2012", "1756", "250"), ("2013", "1756", "400")]
    text = head + "".join(
        f'"{y}","NULL","inttilsk_1_5","kroner","{v}","tilskudd","{k}"\n' for y, k, v in rows
    )
    result = import_files([write_file("tilskudd.csv", text)])
    c = result.tables["kommune_context_year"]
    got = sorted(c.select("kommune_nr", "year", "classification_year", "imdi_grants_nok").rows())
    assert got == [("1729", 2011, 2011, 300.0), ("1756", 2012, 2013, 350.0), ("1756", 2013, 2013, 400.0)]
    assert result.summary["files"][0]["rejected_by_reason"] == {asm.FOLDED: 1}
    assert c["imdi_grants_nok"].sum() == 300 + 100 + 250 + 400  # nothing lost, nothing counted twice


@pytest.mark.parametrize(
    ("label", "years", "name"),
    [
        ("Holmestrand (f.o.m. 2018, t.o.m. 2019)", (2018, 2019), "Holmestrand"),
        ("Moss (t.o.m. 2019)", (None, 2019), "Moss"),
        ("Moss (f.o.m. 2020)", (2020, None), "Moss"),
        ("Mosvik  (-2011)", (None, 2011), "Mosvik"),
    ],
)
def test_validity_markers(label: str, years: tuple[int | None, int | None], name: str) -> None:
    assert codes.label_years(label) == years
    assert codes.clean_name(label) == name


def test_the_dimension_carries_ssbs_centrality_class_and_the_summary_says_which(flat_file: Path) -> None:
    """geo.centrality: the 2014 codes take the class of the 2024 municipality that contains them."""
    from settlement_research.geo import centrality

    result = import_files([flat_file])
    kommune = result.tables["kommune"]
    got = dict(kommune.filter(pl.col("kommune_nr").is_in(["0301", "1103", "1151", "1534", "1850"]))
               .select("kommune_nr", "centrality").iter_rows())
    assert got == {"0301": 1, "1103": 2, "1151": 6, "1534": 5, "1850": None}
    expected = centrality.classes_at(2014)
    assert kommune.select("kommune_nr", "centrality").sort("kommune_nr").equals(
        expected.select("kommune_nr", "centrality").sort("kommune_nr"))
    block = result.summary["centrality"]
    assert block["versions"]["before 2020"] == centrality.VERSION_BEFORE_2020
    assert block["no_class"] == ["1613 (1924-2017)", "1850 (1869-2019)"]
