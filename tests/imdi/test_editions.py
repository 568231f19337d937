"""IMDi editions are data: every value keeps its edition, the clean tables choose by precedence,
restatements are listed, nothing published is lost.

Small self-made files test each rule; the real recorded files (skipped without ../shared/real_data)
test the combination that lost counts before (2015 edition + the export per 2022-09). The expected
numbers there were recomputed by hand from the raw CSVs with the csv module (see ``_hand_*``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import polars as pl
import pytest

from settlement_research.relations import check_relations
from settlement_research.sources.imdi import assemble as asm
from settlement_research.sources.imdi import editions, import_files, write_outputs

FLAT_2015 = (
    '"aar","fylke_nr","bosetting","enhet","tabellvariabel","tabell_navn","kommune_nr","naringsregion_nr","bydel_nr"\n'
    '"2014","00","bosatt","personer","45","bosatt_anmodede","NULL","NULL","NULL"\n'
    '"2014","00","anmodning","personer","60","bosatt_anmodede","NULL","NULL","NULL"\n'
    '"2014","99","bosatt","personer","5","bosatt_anmodede","NULL","NULL","NULL"\n'
    '"2014","NULL","anmodning","personer","20","bosatt_anmodede","0211","NULL","NULL"\n'
    '"2014","NULL","bosatt","personer","12","bosatt_anmodede","0211","NULL","NULL"\n'
    '"2014","NULL","anmodning","personer","40","bosatt_anmodede","0427","NULL","NULL"\n'
    '"2014","NULL","bosatt","personer","28","bosatt_anmodede","0427","NULL","NULL"\n'
    '"2014","NULL","vedtak","personer","0","bosatt_anmodede","0427","NULL","NULL"\n'
)
# The newer export restates 2014 under the 2020 codes (3019 Vestby, 3420 Elverum): Vestby's request
# is revised (20 -> 15), Elverum's decision is '.' where 2015 said 0; it adds a partial 2022.
WIDE_2022_09 = (
    "Region;Navn;Bosetting: Anmodning om bosetting;Bosetting: Anmodning om bosetting;"
    "Bosetting: Opprinnelig anmodning;Bosetting: Faktisk bosetting;Bosetting: Faktisk bosetting;"
    "Bosetting: Vedtak om bosetting\n"
    ";;Enhet: Personer;Enhet: Personer;Enhet: Personer;Enhet: Personer;Enhet: Personer;Enhet: Personer\n"
    ";;År: 2014;År: 2022;År: 2022;År: 2014;År: 2022;År: 2014\n"
    "K3019;Vestby;15;30;25;12;9;10\n"
    "K3420;Elverum;40;50;50;28;17;.\n"
    "K9999;Uoppgitt kommune;;;;7;;\n"
)


@pytest.fixture
def two_editions(write_file) -> tuple[Path, Path]:
    return (write_file("bosatt_anmodede.csv", FLAT_2015),
            write_file("bosatt_anmodede_wide_per_2022-09.csv", WIDE_2022_09, "latin-1"))


def _row(frame: pl.DataFrame, code: str, year: int) -> dict:
    rows = frame.filter((pl.col("kommune_nr") == code) & (pl.col("year") == year)).to_dicts()
    assert len(rows) == 1, (code, year, rows)
    return rows[0]


def test_per_date_from_the_file_name() -> None:
    assert editions.per_date("imdi_bosatt_anmodede_wide_per_2022-09.csv") == dt.date(2022, 9, 30)
    assert editions.per_date("bosatt_anmodede_sep22.csv") == dt.date(2022, 9, 30)
    assert editions.per_date("x_per_2021-02-14.csv") == dt.date(2021, 2, 14)
    assert editions.per_date("bosatt_anmodede.csv") is None


def test_latest_edition_wins_and_every_edition_is_kept(two_editions: tuple[Path, Path]) -> None:
    result = import_files(list(two_editions))
    assert result.assembled.ranks == {"imdi-per-2022-09-30": 0, "imdi-2015": 1}
    s = result.tables["kommune_settlement_year"]
    vestby = _row(s, "3019", 2014)
    assert (vestby["requested"], vestby["settled"], vestby["decided"]) == (15, 12, 10)
    elverum = _row(s, "3420", 2014)
    # a published '.' is a value: it wins over the older 0 and says so, never a conflict
    assert (elverum["decided"], elverum["decided_symbol"]) == (None, ".")
    assert result.assembled.conflicts.is_empty()
    ev = result.tables["imdi_edition_value"]
    old = ev.filter((pl.col("kommune_nr") == "0211") & (pl.col("measure") == "requested"))
    assert old.select("edition", "value", "chosen").rows() == [("imdi-2015", 20.0, False)]
    new = ev.filter((pl.col("kommune_nr") == "3019") & (pl.col("measure") == "requested") & (pl.col("year") == 2014))
    assert new.select("edition", "value", "chosen", "edition_per").rows() == [
        ("imdi-per-2022-09-30", 15.0, True, dt.date(2022, 9, 30))]
    assert ev["file_sha256"].str.contains(r"^[0-9a-f]{64}$").all()
    assert set(ev["publisher"]) == {"IMDi"}


def test_restatements_are_listed_across_codes(two_editions: tuple[Path, Path]) -> None:
    rs = import_files(list(two_editions)).assembled.restatements
    listed = {(r["measure"], r["chosen_codes"], r["other_codes"]): (r["chosen_value"], r["chosen_symbol"],
                                                                    r["other_value"], r["other_symbol"])
              for r in rs.iter_rows(named=True)}
    assert listed[("requested", "3019", "0211")] == (15.0, None, 20.0, None)
    assert listed[("decided", "3420", "0427")] == (None, ".", 0.0, None)
    assert ("settled", "3019", "0211") not in listed  # equal: nothing to list
    assert set(rs["kind"]) == {editions.OTHER_CODES}


def test_an_explicit_precedence_reproduces_the_older_edition(two_editions: tuple[Path, Path]) -> None:
    result = import_files(list(two_editions), prefer=["imdi-2015"])
    s = result.tables["kommune_settlement_year"]
    assert _row(s, "0211", 2014)["requested"] == 20
    assert (_row(s, "0427", 2014)["decided"], _row(s, "0427", 2014)["decided_symbol"]) == (0, None)
    assert "3019" not in set(s.filter(pl.col("year") == 2014)["kommune_nr"])  # one code set per unit
    with pytest.raises(ValueError, match="not in this import"):
        import_files(list(two_editions), prefer=["imdi-1999"])


def test_partial_year_and_original_request_are_kept(two_editions: tuple[Path, Path]) -> None:
    s = import_files(list(two_editions)).tables["kommune_settlement_year"]
    v22 = _row(s, "3019", 2022)
    assert v22["period_end"] == dt.date(2022, 9, 30)  # year to date, not a full year
    assert (v22["requested"], v22["requested_original"]) == (30, 25)
    assert _row(s, "3019", 2014)["period_end"] == dt.date(2014, 12, 31)
    [problem] = [p for p in check_relations({"kommune_settlement_year": s}) if p.rule == "partial_year_marked"]
    assert "2022" in problem.message


def test_nulls_always_say_why(two_editions: tuple[Path, Path]) -> None:
    s = import_files(list(two_editions)).tables["kommune_settlement_year"]
    for c in ("requested", "requested_original", "decided", "settled"):
        assert s.filter(pl.col(c).is_null() & pl.col(f"{c}_symbol").is_null()).is_empty(), c
    # 2014 has no original request in the export: '~' (not in this edition), never a bare null
    assert _row(s, "3019", 2014)["requested_original_symbol"] == "~"


def test_unknown_municipality_reconciles_the_national_row_exactly(two_editions: tuple[Path, Path]) -> None:
    result = import_files(list(two_editions), prefer=["imdi-2015"])
    nat = result.tables["national_settlement_year"].row(0, named=True)
    assert (nat["year"], nat["settled"], nat["settled_unknown_kommune"], nat["edition"]) == (2014, 45, 5, "imdi-2015")
    s = result.tables["kommune_settlement_year"].filter(pl.col("year") == 2014)
    assert int(s["settled"].sum()) + nat["settled_unknown_kommune"] == nat["settled"]
    tables = {k: result.tables[k] for k in ("kommune_settlement_year", "national_settlement_year", "imdi_edition_value")}
    # settled and requested come from the preferred edition alone and reconcile exactly; Vestby's
    # decision is published only by the newer edition (under 3019, the same municipality as 0211),
    # so the key is kept from it - and the year's decided then mixes editions, which the rule says
    [mixed] = [p for p in check_relations(tables) if p.rule == "national_sum_reconciles"]
    assert "2014 decided" in mixed.message and "imdi-2015+imdi-per-2022-09-30" in mixed.message
    assert "gap -10" in mixed.message
    assert _row(result.tables["kommune_settlement_year"], "0211", 2014)["decided"] == 10
    # the newer edition's own unknown row (7) stays in the companion table
    ev = result.tables["imdi_edition_value"]
    unknown = ev.filter(pl.col("measure") == "settled_unknown_kommune").sort("edition")
    assert unknown.select("kommune_nr", "edition", "value").rows() == [
        (asm.NATIONAL_CODE, "imdi-2015", 5.0), (asm.NATIONAL_CODE, "imdi-per-2022-09-30", 7.0)]
    # the latest precedence takes the newer edition's figures for 2014; it publishes no national
    # row, so the national row is its own total (municipalities + its unknown row), said so in source
    latest = import_files(list(two_editions))
    nat = latest.tables["national_settlement_year"].row(0, named=True)
    assert (nat["year"], nat["settled"], nat["settled_unknown_kommune"], nat["edition"]) == (
        2014, 12 + 28 + 7, 7, "imdi-per-2022-09-30")
    assert "settled: this edition publishes no national row" in nat["source"]
    tables = {k: latest.tables[k] for k in ("kommune_settlement_year", "national_settlement_year", "imdi_edition_value")}
    assert [p for p in check_relations(tables) if p.rule == "national_sum_reconciles"] == []
    assert latest.summary["national_totals"]["years"][0]["national_row"] == "derived"
    # a clean table whose sum is off by one (a key lost, counted twice, or mixed in from the other
    # edition) no longer reconciles: the rule names the gap and the editions of the year's cells
    off = tables | {"kommune_settlement_year": tables["kommune_settlement_year"].with_columns(
        pl.when((pl.col("kommune_nr") == "3019") & (pl.col("year") == 2014)).then(pl.col("settled") + 1).otherwise(pl.col("settled"))
        .alias("settled"))}
    [problem] = [p for p in check_relations(off) if p.rule == "national_sum_reconciles"]
    assert "gap -1" in problem.message and "imdi-per-2022-09-30" in problem.message


def test_outputs_are_written_with_the_restatements(two_editions: tuple[Path, Path], tmp_path: Path) -> None:
    result = import_files(list(two_editions))
    out = write_outputs(result, tmp_path / "imdi")
    assert pl.read_parquet(out / "restatements.parquet").height == result.assembled.restatements.height
    assert pl.read_parquet(out / "imdi_edition_value.parquet").height == result.tables["imdi_edition_value"].height
    files = {f["name"]: f for f in result.files}
    assert files["bosatt_anmodede_wide_per_2022-09.csv"]["edition_per"] == "2022-09-30"
    assert files["bosatt_anmodede.csv"]["edition"] == "imdi-2015"


def test_residence_file_with_four_header_rows(write_file) -> None:
    text = (
        "Region;Navn;Botid i Norge: 0-4 år;Botid i Norge: 0-4 år;Botid i Norge: 0-4 år;Botid i Norge: Alle\n"
        ";;Sekundærflytting: Alle;Sekundærflytting: Alle;Sekundærflytting: Bosatt her;Sekundærflytting: Alle\n"
        ";;Enhet: Personer;Enhet: Prosent;Enhet: Personer;Enhet: Personer\n"
        ";;År: 2021;År: 2021;År: 2021;År: 2021\n"
        "K3801;Horten;246;18.8;159;1306\n"
        "K3806;Porsgrunn;:;:;2;1733\n"
    )
    result = import_files([write_file("imdi_flyktning_botid_flytting_wide.csv", text, "latin-1")])
    c = result.tables["kommune_context_year"]
    assert _row(c, "3801", 2021)["refugees_short_residence"] == 246
    porsgrunn = _row(c, "3806", 2021)
    assert (porsgrunn["refugees_short_residence"], porsgrunn["refugees_short_residence_symbol"]) == (None, ":")
    f = result.summary["files"][0]
    assert (f["read"], f["imported"], f["unexplained"]) == (8, 2, 0)
    assert f["rejected_by_reason"] == {asm.UNMAPPED: 6}


# --- the real recorded files ---------------------------------------------------------------------

WIDE = "imdi_bosatt_anmodede_wide_per_2022-09.csv"


def _hand_flat(real_data: Path) -> dict:
    """(bosetting, year) -> (national row, municipal sum, fylke 99) from the flat CSV, by hand."""
    out: dict = {}
    with open(real_data / "imdi_2015_flat" / "bosatt_anmodede.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["enhet"] != "personer":
                continue
            key = (r["bosetting"], int(r["aar"]))
            nat, muni, unknown = out.get(key, (0, 0, 0))
            v = r["tabellvariabel"]
            n = int(float(v)) if re.match(r"^\d+(\.\d+)?$", v) else 0
            if r["fylke_nr"] == "00":
                nat = n
            elif r["fylke_nr"] == "99" and r["kommune_nr"] == "NULL":
                unknown = n
            elif r["kommune_nr"] != "NULL":
                muni += n
            out[key] = (nat, muni, unknown)
    return out


def _hand_wide(real_data: Path) -> dict[tuple[str, str, int], str]:
    """(region, measure, year) -> raw cell of the export per 2022-09, by hand."""
    text = (real_data / "misc" / WIDE).read_bytes().decode("latin-1")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    head = rows[:3]
    out = {}
    for r in rows[3:]:
        if not r or not r[0].startswith("K"):
            continue
        for j in range(2, len(r)):
            if head[1][j] == "Enhet: Personer":
                out[(r[0], head[0][j].removeprefix("Bosetting: "), int(head[2][j][-4:]))] = r[j]
    return out


@pytest.fixture(scope="module")
def real_pair(real_data: Path) -> list[Path]:
    return [real_data / "imdi_2015_flat" / "bosatt_anmodede.csv", real_data / "misc" / WIDE]


@pytest.fixture(scope="module")
def latest(real_pair: list[Path]):  # noqa: ANN201
    return import_files(real_pair)


@pytest.fixture(scope="module")
def older_first(real_pair: list[Path]):  # noqa: ANN201
    return import_files(real_pair, prefer=["imdi-2015"])


@pytest.mark.real_data
def test_real_2015_edition_preferred_equals_its_own_totals(older_first, real_data: Path) -> None:
    hand = _hand_flat(real_data)
    assert hand[("bosatt", 2014)] == (7784, 7719, 65)  # national = municipalities + fylke 99
    s = older_first.tables["kommune_settlement_year"]
    nat = older_first.tables["national_settlement_year"]
    for measure, col in (("bosatt", "settled"), ("anmodning", "requested"), ("vedtak", "decided")):
        for year in (2012, 2013, 2014):
            national, muni, unknown = hand[(measure, year)]
            assert int(s.filter(pl.col("year") == year)[col].sum()) == muni, (col, year)
            row = nat.filter(pl.col("year") == year).row(0, named=True)
            assert row[col] == national and (row[f"{col}_unknown_kommune"] or 0) == unknown, (col, year)
    assert [int(s.filter(pl.col("year") == y)["settled"].sum()) for y in (2012, 2013, 2014)] == [5757, 6511, 7719]
    tables = {k: older_first.tables[k] for k in ("kommune_settlement_year", "national_settlement_year",
                                                 "imdi_edition_value")}
    assert [p for p in check_relations(tables) if p.rule == "national_sum_reconciles"] == []


@pytest.mark.real_data
def test_real_latest_takes_the_2022_export_and_lists_what_it_restates(latest, real_data: Path) -> None:
    wide = _hand_wide(real_data)
    s = latest.tables["kommune_settlement_year"]
    # Vestby and Elverum: the 2022 export's values (hand-read from the raw cells)
    assert _row(s, "3019", 2012)["requested"] == int(wide[("K3019", "Anmodning om bosetting", 2012)]) == 15
    assert _row(s, "3420", 2013)["decided"] == int(wide[("K3420", "Vedtak om bosetting", 2013)]) == 47
    # Harstad 2012-13 and Inderøy 2012 are present (they vanished before)
    codes = {y: set(s.filter(pl.col("year") == y)["kommune_nr"]) for y in (2012, 2013)}
    assert {"1901"} <= codes[2012] and ({"1903", "1901"} & codes[2013]) and ({"1756", "1729"} & codes[2012])
    assert wide[("K1901", "Anmodning om bosetting", 2012)] == "70" and _row(s, "1901", 2012)["requested"] == 70
    # no published key lost: every null says why, no conflict, restatements listed
    for c in ("requested", "decided", "settled"):
        assert s.filter(pl.col(c).is_null() & pl.col(f"{c}_symbol").is_null()).is_empty(), c
    assert latest.assembled.conflicts.is_empty()
    rs = latest.assembled.restatements.filter(pl.col("year").is_between(2012, 2014))
    pairs = set(rs.select("measure", "year", "chosen_codes", "other_codes").iter_rows())
    assert ("requested", 2012, "3019", "0211") in pairs  # Vestby 15 (2022) vs 20 (2015)
    assert ("decided", 2013, "3420", "0427") in pairs    # Elverum 47 vs 35
    vestby = rs.filter((pl.col("chosen_codes") == "3019") & (pl.col("year") == 2012) & (pl.col("measure") == "requested"))
    assert vestby.select("chosen_value", "other_value").rows() == [(15.0, 20.0)]
    # the 2022 September column is marked, and the original request kept beside the revised one
    oslo22 = _row(s, "0301", 2022)
    assert oslo22["period_end"] == dt.date(2022, 9, 30)
    assert oslo22["requested_original"] == int(wide[("K0301", "Opprinnelig anmodning", 2022)])
    assert oslo22["requested"] == int(wide[("K0301", "Anmodning om bosetting", 2022)])
    # the unknown municipality of the newer edition (112 in 2014) is kept in the companion table
    ev = latest.tables["imdi_edition_value"]
    k9999 = ev.filter((pl.col("measure") == "settled_unknown_kommune") & (pl.col("year") == 2014)
                      & (pl.col("edition") == "imdi-per-2022-09-30"))
    assert k9999["value"].to_list() == [float(wide[("K9999", "Faktisk bosetting", 2014)])] == [112.0]


@pytest.mark.real_data
def test_real_every_key_of_every_edition_is_kept(latest) -> None:
    ev = latest.tables["imdi_edition_value"]
    records = latest.assembled.records.filter(pl.col("reason").is_null())
    per_edition = records.select("edition", "table", "kommune_nr", "measure_year", "target").unique()
    assert ev.height == per_edition.height  # one companion row per imported key and edition
    chosen = ev.filter(pl.col("chosen") & (pl.col("table") == "kommune_settlement_year")
                       & pl.col("measure").is_in(["requested", "decided", "settled"]))
    s = latest.tables["kommune_settlement_year"]
    long = s.unpivot(index=["kommune_nr", "year"], on=["requested", "decided", "settled"], variable_name="measure")
    joined = chosen.join(long, on=["kommune_nr", "year", "measure"], how="left", suffix="_clean")
    assert joined.filter(pl.col("value").ne_missing(pl.col("value_clean").cast(pl.Float64))).is_empty()


@pytest.mark.real_data
def test_real_residence_file_imports_its_indicator(real_data: Path) -> None:
    result = import_files([real_data / "misc" / "imdi_flyktning_botid_flytting_wide.csv"])
    f = result.summary["files"][0]
    assert (f["read"], f["unexplained"]) == (4416, 0)
    assert f["imported"] > 100
    c = result.tables["kommune_context_year"]
    text = (real_data / "misc" / "imdi_flyktning_botid_flytting_wide.csv").read_bytes().decode("latin-1")
    horten = next(r for r in csv.reader(io.StringIO(text), delimiter=";") if r and r[0] == "K3801")
    assert _row(c, "3801", 2021)["refugees_short_residence"] == int(horten[2 + 7]) == 246  # 0-4 years, 2021
    assert _row(c, "3801", 2014)["refugees_short_residence"] == int(horten[2]) == 168
