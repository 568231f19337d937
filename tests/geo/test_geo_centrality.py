"""SSB's centrality class from the shipped list (geo/data/sentralitet_klass710.csv), per classification year.

Values read by hand in the shipped list (and, for 2024, in the government's list of municipalities by
county and centrality, Regionale utviklingstrekk 2025, appendix); the version rules of
``geo.centrality``; and the harmonisation layer against SSB's own grouping of every ended code.
"""

from __future__ import annotations

import polars as pl
import pytest

from settlement_research.geo import centrality, codes


def _classes(year: int, *wanted: str) -> dict[str, int | None]:
    return dict(centrality.classes_at(year, list(wanted)).select("kommune_nr", "centrality").iter_rows())


def test_the_shipped_list_is_ssbs_six_classes_with_provenance() -> None:
    s = centrality.shipped()
    assert s.height == 878 and s["kommune_nr"].n_unique() == 878
    assert sorted(s["centrality"].unique().to_list()) == [1, 2, 3, 4, 5, 6]
    head = (codes.data_folder() / centrality.SHIPPED_CENTRALITY).read_text("utf-8").split("kommune_kode,")[0]
    for needed in ("KLASS classification 710", "rogfk-stat-og-analyse/Boligbehov", "79fd30af170863666396136cafe97b472f2a6954",
                   "f3146286330a37e6d0f6be9c82eeafd72686e0f7a3c92848a169a1d394871c8b", "Statistics Norway"):
        assert needed in head, needed


def test_hand_checked_classes() -> None:
    # 2024: Oslo and the four Akershus municipalities next to it are the only class 1
    ones = centrality.classes_at(2024).filter(pl.col("centrality") == 1)["kommune_nr"].to_list()
    assert ones == ["0301", "3201", "3205", "3222", "3224"]  # Oslo, Bærum, Lillestrøm, Lørenskog, Rælingen
    assert _classes(2024, "1103", "1151", "5001", "3101", "3124", "5612", "1580", "1508") == {
        "1103": 2, "1151": 6, "5001": 2, "3101": 3, "3124": 5, "5612": 6, "1580": 5, "1508": 3}
    # the government's list of municipalities by county and centrality (Regionale utviklingstrekk 2025,
    # appendix 10): Østfold 2 Fredrikstad, Sarpsborg, Moss; 3 Halden, Råde; 4 Marker, Hvaler; 5 Aremark;
    # Buskerud 2 Lier, Drammen; 3 Kongsberg, Ringerike; 6 Nore og Uvdal; Rogaland 5 Hjelmeland;
    # 6 Utsira, Kvitsøy; Vestland 2 Bergen; 3 Askøy
    assert _classes(2024, "3107", "3105", "3103", "3101", "3112", "3122", "3110", "3124", "3312", "3301", "3303",
                    "3305", "3338", "1133", "1151", "1144", "4601", "4627") == {
        "3107": 2, "3105": 2, "3103": 2, "3101": 3, "3112": 3, "3122": 4, "3110": 4, "3124": 5, "3312": 2,
        "3301": 2, "3303": 3, "3305": 3, "3338": 6, "1133": 5, "1151": 6, "1144": 6, "4601": 2, "4627": 3}
    # 2014 codes through the 2024 municipality that contains them
    assert _classes(2014, "0301", "0219", "1103", "1151", "2011", "1534", "1601") == {
        "0301": 1, "0219": 1, "1103": 2, "1151": 6, "2011": 6, "1534": 5, "1601": 2}


def test_versions_by_classification_year() -> None:
    assert [centrality.version_key(y) for y in (1998, 2014, 2019, 2020, 2023, 2024, 2025)] == [
        "before_2020", "before_2020", "before_2020", "2020", "2020", "2024", "2024"]
    assert centrality.version(2014) == centrality.VERSION_BEFORE_2020
    counts = {y: centrality.classes_at(y) for y in (2014, 2019, 2020, 2024)}
    assert {y: (t.height, t["centrality"].null_count()) for y, t in counts.items()} == {
        2014: (428, 2), 2019: (422, 2), 2020: (356, 0), 2024: (357, 0)}
    # 2020-2023 codes carry the 2020 index of their own unit: 1507 Ålesund (with Haram) is 3,
    # while harmonising it to 2024 would find Ålesund 3 and Haram 5
    assert _classes(2020, "1507") == {"1507": 3}
    assert _classes(2024, "1507") == {"1507": None}  # not a 2024 code: never joined by code alone


def test_a_municipality_split_across_classes_has_none_and_says_why() -> None:
    t = centrality.classes_at(2014, ["1850", "1613"])
    assert t["centrality"].to_list() == [None, None]
    assert all(b.startswith(centrality.SPLIT_ACROSS_CLASSES) for b in t["basis"])
    assert "1806: 4" in t["basis"][1] and "1875: 6" in t["basis"][1]  # Tysfjord: Narvik 4, Hamarøy 6
    assert centrality.split_across_classes("1850", 2014) and not centrality.split_across_classes("1103", 2014)


def test_harmonisation_gives_ssbs_own_grouping_for_every_ended_code() -> None:
    """SSB's list gives each ended code the class of the 2024 municipality it groups it into; the
    change table must reach the same class wherever it determines one."""
    versions = codes.code_list().rename({"code": "kommune_nr"}).select("kommune_nr", "valid_from", "valid_to")
    ours = centrality.for_periods(versions).join(
        centrality.shipped().select("kommune_nr", pl.col("centrality").alias("ssb")), on="kommune_nr", how="left")
    assert ours.filter(pl.col("ssb").is_null()).is_empty()  # every code version 1994-2024 is in SSB's list
    decided = ours.filter(pl.col("centrality").is_not_null())
    assert decided.height >= 860
    assert decided.filter(pl.col("centrality") != pl.col("ssb")).is_empty()
    undetermined = ours.filter(pl.col("centrality").is_null())["kommune_nr"].to_list()
    assert undetermined == ["1613", "1850", "5012"]  # Snillfjord (twice), Tysfjord: split across classes


@pytest.mark.parametrize("code", ["0716", "0718"])
def test_reused_and_ended_codes_take_their_years_unit(code: str) -> None:
    # Våle (0716 to 2001) and Ramnes (0718) -> Re -> Tønsberg 3905, class 2; both years' units agree
    assert _classes(2001, code) == {code: 2}
    assert _classes(2014, "0716") == {"0716": 2}
    assert _classes(2014, "0718") == {"0718": None}  # 0718 is not a code of 2014
