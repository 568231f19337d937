"""All 30 real IMDi files imported together: national totals, every key, restatements, partial files.

The expected numbers are recomputed by hand from the raw files with the csv module (``_hand_*``),
never from the importer. Skipped cleanly without ../shared/real_data.

How the hand totals are defined:
* the 2015 edition (flat bosatt_anmodede.csv): the national row (fylke 00), the municipalities'
  sum and the unknown-municipality row (fylke 99) per measure and year;
* the export per 2022-09: the sum of every number in the municipality rows ('K' + 4 digits, not
  K9999), minus the cells the export publishes twice - a number under an ended or later code
  for a municipality and year whose own code gives a number too (``WIDE_TWICE``, each read and
  checked below). Where the own code gives only '.', the other code's number is the
  municipality's and counts (Harstad 2012: request 70 under 1901, settled 58 under 5402).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import polars as pl
import pytest

from settlement_research.harmonize import harmonize
from settlement_research.relations import check_relations
from settlement_research.sources.imdi import import_files
from settlement_research.sources.imdi import restated as rs

WIDE = "imdi_bosatt_anmodede_wide_per_2022-09.csv"
RESIDENCE = "imdi_flyktning_botid_flytting_wide.csv"
MEASURES = {"Anmodning om bosetting": "requested", "Vedtak om bosetting": "decided", "Faktisk bosetting": "settled"}
FLAT_MEASURES = {"anmodning": "requested", "vedtak": "decided", "bosatt": "settled"}
NEW, OLD = "imdi-per-2022-09-30", "imdi-2015"
# (code, year, measure, the own code giving a number too): published twice in the export, read by
# hand (0102/0103 ended in 1991/1993, their successors 3003/3004 restate 1995; 1154 ended in 2005,
# 1160 Vindafjord gives 2007). K0716 1998-2001 is not here: those cells are Våle's own, not Re
# restating Ramnes K0718 (sources/imdi/codes.py REUSED_CODE_RULE, tests/imdi/test_reused_code.py).
WIDE_TWICE = [
    ("K0102", 1995, "requested", "K3003"), ("K0103", 1995, "requested", "K3004"),
    ("K1154", 2007, "requested", "K1160"),
]


def _number(cell: str) -> int | None:
    cell = cell.strip()
    return int(float(cell)) if re.fullmatch(r"\d+(\.0+)?", cell) else None


def _hand_wide_cells(real_data: Path) -> dict[tuple[str, str, int], str]:
    text = (real_data / "misc" / WIDE).read_bytes().decode("latin-1")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    head = rows[:3]
    out = {}
    for r in rows[3:]:
        if not r or not re.fullmatch(r"K\d{4}", r[0]):
            continue
        for j in range(2, len(r)):
            measure = MEASURES.get(head[0][j].removeprefix("Bosetting: "))
            if measure and head[1][j] == "Enhet: Personer":
                out[(r[0], measure, int(head[2][j][-4:]))] = r[j]
    return out


def _hand_wide_totals(real_data: Path) -> dict[tuple[str, int], tuple[int, int | None]]:
    """(measure, year) -> (municipalities' total, K9999) of the export per 2022-09."""
    cells = _hand_wide_cells(real_data)
    twice = {(code, m, y) for code, y, m, _own in WIDE_TWICE}
    out: dict[tuple[str, int], tuple[int, int | None]] = {}
    for (region, m, y), cell in cells.items():
        total, unknown = out.get((m, y), (0, None))
        n = _number(cell)
        if region == "K9999":
            unknown = n
        elif n is not None and (region, m, y) not in twice:
            total += n
        out[(m, y)] = (total, unknown)
    return out


def _hand_flat(real_data: Path) -> dict[tuple[str, int], tuple[int, int, int]]:
    """(measure, year) -> (national row, municipalities' sum, fylke 99) of the 2015 edition."""
    out: dict[tuple[str, int], tuple[int, int, int]] = {}
    with open(real_data / "imdi_2015_flat" / "bosatt_anmodede.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            m = FLAT_MEASURES.get(r["bosetting"])
            if r["enhet"] != "personer" or m is None:
                continue
            nat, muni, unknown = out.get((m, int(r["aar"])), (0, 0, 0))
            n = _number(r["tabellvariabel"]) or 0
            if r["fylke_nr"] == "00":
                nat = n
            elif r["fylke_nr"] == "99" and r["kommune_nr"] == "NULL":
                unknown = n
            elif r["kommune_nr"] != "NULL":
                muni += n
            out[(m, int(r["aar"]))] = (nat, muni, unknown)
    return out


def _all_files(real_data: Path) -> list[Path]:
    files = sorted((real_data / "imdi_2015_flat").glob("*.csv")) + sorted((real_data / "imdi_2015_raw").glob("*.csv"))
    files += [real_data / "misc" / WIDE, real_data / "misc" / RESIDENCE]
    if len(files) != 30 or not all(f.is_file() for f in files):
        pytest.skip("the 30 IMDi files of ../shared/real_data are not all present")
    return files


@pytest.fixture(scope="module")
def latest(real_data: Path):  # noqa: ANN201
    return import_files(_all_files(real_data))


@pytest.fixture(scope="module")
def older_first(real_data: Path):  # noqa: ANN201
    return import_files(_all_files(real_data), prefer=[OLD])


def _clean_sums(result) -> dict[tuple[str, int], int]:  # noqa: ANN001
    s = result.tables["kommune_settlement_year"]
    sums = s.group_by("year").agg(*(pl.col(m).sum() for m in FLAT_MEASURES.values()))
    return {(m, int(r["year"])): int(r[m]) for r in sums.iter_rows(named=True) for m in FLAT_MEASURES.values()}


def _national(result) -> dict[int, dict]:  # noqa: ANN001
    return {int(r["year"]): r for r in result.tables["national_settlement_year"].iter_rows(named=True)}


@pytest.mark.real_data
def test_the_cells_published_twice_are_what_the_list_says(real_data: Path) -> None:
    cells = _hand_wide_cells(real_data)
    for code, year, measure, own in WIDE_TWICE:
        assert _number(cells[(code, measure, year)]) is not None, (code, year, measure)
        assert _number(cells[(own, measure, year)]) is not None, (own, year, measure)


@pytest.mark.real_data
def test_latest_totals_equal_the_2022_export_1995_to_2022(latest, real_data: Path) -> None:
    hand = _hand_wide_totals(real_data)
    clean, national = _clean_sums(latest), _national(latest)
    for year in range(1995, 2023):
        for m in FLAT_MEASURES.values():
            total, unknown = hand[(m, year)]
            assert clean[(m, year)] == total, (m, year)
            nat = national[year]
            assert nat["edition"] == NEW, year
            if m != "settled" or year >= 2012:  # settled before 2012 is '.' in every row
                assert nat[m] == total + (unknown or 0), (m, year)
    assert [clean[("settled", y)] for y in (2012, 2013, 2014)] == [5757, 6511, 7672]  # was 5 688 / 6 441
    assert national[2014]["settled_unknown_kommune"] == 112
    years = {t["year"]: t for t in latest.summary["national_totals"]["years"]}
    assert years[2013]["edition"] == NEW and years[2013]["national_row"] == "derived"
    assert years[2013]["cell_editions"] == [NEW]
    assert latest.summary["national_totals"]["problems"] == []


@pytest.mark.real_data
def test_2015_edition_preferred_gives_its_own_totals(older_first, real_data: Path) -> None:
    flat, wide = _hand_flat(real_data), _hand_wide_totals(real_data)
    clean, national = _clean_sums(older_first), _national(older_first)
    assert [flat[("settled", y)][1] for y in (2012, 2013, 2014)] == [5757, 6511, 7719]
    for year in (2012, 2013, 2014):
        for m in FLAT_MEASURES.values():
            nat_row, muni, unknown = flat[(m, year)]
            assert clean[(m, year)] == muni, (m, year)
            assert national[year][m] == nat_row == muni + unknown, (m, year)
            assert national[year]["edition"] == OLD
    for year in [*range(1995, 2012), *range(2015, 2023)]:  # only the export has these years
        for m in FLAT_MEASURES.values():
            assert clean[(m, year)] == wide[(m, year)][0], (m, year)
    years = {t["year"]: t for t in older_first.summary["national_totals"]["years"]}
    assert (years[2014]["edition"], years[2014]["national_row"]) == (OLD, "published")
    assert older_first.summary["national_totals"]["problems"] == []
    tables = {k: older_first.tables[k] for k in ("kommune_settlement_year", "national_settlement_year")}
    assert [p for p in check_relations(tables) if p.rule == "national_sum_reconciles"] == []


@pytest.mark.real_data
def test_a_value_beats_a_dot_inside_the_export(latest, real_data: Path) -> None:
    cells = _hand_wide_cells(real_data)
    s = latest.tables["kommune_settlement_year"]
    # Harstad 2012: request 70 under 1901 (settled '.'), settled 58 under 5402 (request '.')
    assert (cells[("K1901", "requested", 2012)], cells[("K1901", "settled", 2012)]) == ("70", ".")
    assert (cells[("K5402", "requested", 2012)], cells[("K5402", "settled", 2012)]) == (".", "58")
    harstad = s.filter((pl.col("kommune_nr") == "1901") & (pl.col("year") == 2012)).row(0, named=True)
    assert (harstad["requested"], harstad["settled"]) == (70, 58)
    rejected = latest.assembled.records.filter(pl.col("reason") == rs.DOT_REPLACED)
    assert ("1901", 2012, "settled") in set(rejected.select("kommune_nr", "measure_year", "target").iter_rows())
    # Inderøy 2012: settled 11 under 5053, where the year's row says '.'
    assert cells[("K5053", "settled", 2012)] == "11"
    assert s.filter((pl.col("year") == 2012) & pl.col("kommune_nr").is_in(["1756", "1729", "5053"]))[
        "settled"].sum() == 11


@pytest.mark.real_data
def test_every_published_number_of_the_export_is_kept_somewhere(latest, real_data: Path) -> None:
    """Each number of the export is in imdi_edition_value under its own code, or was added to
    the code kept for its municipality and year (same 2024 municipality, regtools grouping), or
    is one of the cells published twice."""
    group = {k: g for g, _gt, k, _t in pl.read_excel(
        real_data / "misc" / "regtools_kommuner_1994-2024_grouped_to_2024.xlsx").iter_rows()}
    ev = latest.tables["imdi_edition_value"].filter(
        (pl.col("edition") == NEW) & (pl.col("table") == "kommune_settlement_year"))
    own = {(k, int(y), m): v for k, y, m, v in ev.select("kommune_nr", "year", "measure", "value").iter_rows()}
    by_group: dict[tuple[str, int, str], list[float]] = {}
    for (k, y, m), v in own.items():
        by_group.setdefault((group.get(k, k), y, m), []).append(v or 0)
    twice = {(code, y, m) for code, y, m, _own in WIDE_TWICE}
    moved = []
    for (region, m, y), cell in _hand_wide_cells(real_data).items():
        n = _number(cell)
        if n is None or region == "K9999" or (region, y, m) in twice:
            continue
        if own.get((region[1:], y, m)) == n:
            continue
        moved.append((region, y, m))
        assert any(v >= n for v in by_group.get((group[region[1:]], y, m), [])), (region, y, m, n)
    # 5402's settled 58 of 2012 went to 1901 (a value beats a '.'); 3003 restating 0105 Sarpsborg is
    # recoded to the code of its year
    assert {("K5402", 2012, "settled"), ("K5053", 2012, "settled"), ("K3003", 1995, "requested")} <= set(moved)


@pytest.mark.real_data
def test_every_key_of_every_edition_is_in_the_edition_table(latest) -> None:
    ev = latest.tables["imdi_edition_value"]
    records = latest.assembled.records.filter(pl.col("reason").is_null())
    keys = records.select("edition", "table", "kommune_nr", "measure_year", "target").unique()
    assert ev.height == keys.height
    assert set(ev["edition"]) == {NEW, OLD, "imdi-wide-2021"}


@pytest.mark.real_data
def test_restatements_between_editions_are_listed(latest) -> None:
    r = latest.assembled.restatements.filter(pl.col("year").is_between(2012, 2014))
    pairs = set(r.select("measure", "year", "chosen_codes", "other_codes").iter_rows())
    assert ("requested", 2012, "3019", "0211") in pairs  # Vestby 15 (2022) vs 20 (2015)
    assert ("decided", 2013, "3420", "0427") in pairs    # Elverum 47 vs 35
    harstad = r.filter((pl.col("year") == 2012) & (pl.col("measure") == "requested")
                       & pl.col("other_codes").str.contains("1903"))
    assert harstad.select("chosen_value", "other_value").rows() == [(70.0, 0.0)]


@pytest.mark.real_data
def test_haram_2014_in_2024_codes(latest, real_data: Path) -> None:
    cells = _hand_wide_cells(real_data)
    assert [cells[("K1534", m, 2014)] for m in ("requested", "decided", "settled")] == ["30", "24", "24"]
    out = harmonize(latest.tables["kommune_settlement_year"].filter(pl.col("year") == 2014), 2024,
                    table="kommune_settlement_year")
    haram = out.filter(pl.col("kommune_nr") == "1580").row(0, named=True)
    assert (haram["requested"], haram["decided"], haram["settled"]) == (30, 24, 24)


@pytest.mark.real_data
def test_residence_values_of_renumbered_codes_reach_the_context_table(latest, real_data: Path) -> None:
    """Every 0-4 year count of the residence file is in kommune_context_year, under its 2020 code
    or the 2019 code it renumbered (the hand-made Vestfold og Telemark crosswalk, read here)."""
    cross: dict[str, set[str]] = {}
    with open(real_data / "misc" / "kommunenummer_crosswalk_vestfold_telemark_2019_2023_2024.csv",
              encoding="utf-8-sig") as fh:  # 2019 codes without the leading zero
        for r in csv.DictReader(fh, delimiter=";"):
            cross.setdefault(r["Kommunenummer_23"], set()).add(r["Kommunenummer_19"].zfill(4))
    res = (real_data / "misc" / RESIDENCE).read_bytes().decode("latin-1")
    table = list(csv.reader(io.StringIO(res), delimiter=";"))
    head4 = table[:4]
    wanted = [j for j in range(2, len(head4[0]))
              if "0-4" in head4[0][j] and head4[1][j].endswith("Alle") and head4[2][j] == "Enhet: Personer"]
    c = latest.tables["kommune_context_year"]
    values = {(k, int(y)): (v, s) for k, y, v, s in c.select(
        "kommune_nr", "year", "refugees_short_residence", "refugees_short_residence_symbol").iter_rows()}
    regtools = pl.read_excel(real_data / "misc" / "regtools_kommuner_1994-2024_grouped_to_2024.xlsx")
    group = {k: g for g, _gt, k, _t in regtools.iter_rows()}
    start = {k: int(m.group(1)) for _g, _gt, k, t in regtools.iter_rows() if (m := re.search(r"\((\d{4})-", t))}
    checked = merged_parts = 0
    for r in table[4:]:
        if not r or not re.fullmatch(r"K38\d{2}", r[0]):
            continue
        code = r[0][1:]
        for j in wanted:
            year, cell = int(head4[3][j][-4:]), r[j].strip()
            if not cell:  # nothing published (3804 Sandefjord before its 2017 merger)
                continue
            found = [values[(k, year)] for k in {code, *cross.get(code, set())} if (k, year) in values]
            if not found:  # before a merger (0710 Sandefjord from 2017): the parts' rows hold the year
                older = [start.get(k) for k in cross.get(code, set())]
                assert older and all(y is not None and year < y for y in older), (code, year)
                assert any((k, year) in values for k, g in group.items() if g == group[code]), (code, year)
                merged_parts += 1
                continue
            assert len(found) == 1, (code, year, found)
            value, symbol = found[0]
            expected = (_number(cell), None) if _number(cell) is not None else (None, cell)
            assert (value, symbol) == expected, (code, year, cell, found)
            checked += 1
    assert checked >= 8 * 15 and merged_parts < checked
    assert values[("0701", 2015)][0] == 181 and values[("3801", 2021)][0] == 246  # Horten


@pytest.mark.real_data
def test_each_partial_file_says_why(latest) -> None:
    why = {f["file"]: f.get("why_partial") for f in latest.summary["coverage"]["files"] if not f["complete"]}
    assert set(why) == {"bosetting.csv", "flyktning_botid_flytting.csv",
                        "07-flyktning_botid_flytting-kommune-2014.csv", RESIDENCE}
    assert "other files of the same edition and table publish" in why["bosetting.csv"]
    for f in ("flyktning_botid_flytting.csv", "07-flyktning_botid_flytting-kommune-2014.csv"):
        assert why[f].startswith("small municipalities left out: the 91 missing"), why[f]
    assert why[RESIDENCE].startswith("a regional extract: it covers every municipality of county 38")
    residence = next(f for f in latest.summary["coverage"]["files"] if f["file"] == RESIDENCE)
    assert set(map(len, residence["missing_by_year"].values())) == {333}  # every year against 2021's list
