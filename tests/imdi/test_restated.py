"""One row per municipality and data year when an export restates years under later codes.

Small self-made wide exports test each rule of ``sources/imdi/restated.py``; the real recorded
files (skipped without ../shared/real_data) test the combination that double counted before:
flat + raw + the 2022 wide export gave 11 417 settled for 2014 against IMDi's national 7 784.

Editions (sources/imdi/editions.py): each edition resolves its own restatements; between editions
the precedence chooses. With the 2015 edition preferred, its 2012-2014 rows are exactly the clean
table and, with the unknown-municipality row (county 99), equal IMDi's national row to the person.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from settlement_research.build import build
from settlement_research.harmonize import FLAG_COLUMNS, harmonize
from settlement_research.model import get_model
from settlement_research.sources.imdi import (
    ImportResult,
    codes,
    import_files,
    read_file,
    restated,
    write_outputs,
)

COUNTS = ["requested", "decided", "settled"]
WIDE_NAME = "imdi_bosatt_anmodede_wide_per_2022-09.csv"


def _wide(years: list[int], rows: str) -> str:
    n = len(years)
    return (
        "Region;Navn;" + ";".join(["Bosetting: Faktisk bosetting"] * n) + "\n"
        + ";;" + ";".join(["Enhet: Personer"] * n) + "\n"
        + ";;" + ";".join(f"År: {y}" for y in years) + "\n" + rows
    )


def _settled(result: ImportResult) -> dict[tuple[str, int], tuple[int | None, int]]:
    s = result.tables["kommune_settlement_year"]
    cols = ["kommune_nr", "year", "settled", "classification_year"]
    return {(k, y): (v, c) for k, y, v, c in s.select(cols).iter_rows()}


def _reasons(result: ImportResult) -> dict[tuple[str, int], str]:
    return {(k, y): r for k, y, r in result.rejected.select("kommune_nr", "year", "reason").iter_rows()}


def _harmonised_totals_kept(frame: pl.DataFrame, table: str = "kommune_settlement_year") -> pl.DataFrame:
    out = harmonize(frame, 2024, table=table)
    cols = [c for c in COUNTS if c in frame.columns]
    before = frame.group_by("year").agg(pl.col(cols).sum()).sort("year")
    after = out.group_by("year").agg(pl.col(cols).sum()).sort("year")
    assert after.equals(before)
    return out


# --- the rules on small exports -------------------------------------------------------------------


def test_the_data_years_own_code_wins_over_a_restatement(write_file) -> None:
    wide = write_file("w.csv", _wide([2014, 2020], "K0101;Halden (t.o.m. 2019);5;\nK3001;Halden;7;9\n"), "latin-1")
    result = import_files([wide])
    assert _settled(result) == {("0101", 2014): (5, 2019), ("3001", 2020): (9, 2020)}
    reason = _reasons(result)[("3001", 2014)]
    assert reason == restated.RESTATED_REASON.format(first=2020)
    assert "code valid from 2020" in reason and "own code is kept" in reason
    assert result.unexplained == 0
    out = _harmonised_totals_kept(result.tables["kommune_settlement_year"])
    assert out.select("kommune_nr", "year", "settled").rows() == [("3101", 2014, 5), ("3101", 2020, 9)]


def test_a_restatement_without_an_own_row_is_kept_with_its_classification(write_file) -> None:
    wide = write_file("w.csv", _wide([2014, 2020], "K3001;Halden;7;9\nK0104;Moss (t.o.m. 2019);4;\n"), "latin-1")
    result = import_files([wide])
    assert _settled(result) == {("3001", 2014): (7, 2020), ("3001", 2020): (9, 2020), ("0104", 2014): (4, 2019)}
    log = result.assembled.restated
    assert log.filter(pl.col("status") == "restated").select("kommune_nr", "year", "outcome").rows() == [
        ("3001", 2014, "kept")
    ]
    assert result.summary["restated"]["kept_under_later_or_ended_code_by_year"] == {"2014": 1}
    out = _harmonised_totals_kept(result.tables["kommune_settlement_year"])
    assert set(out.filter(pl.col("year") == 2014)["kommune_nr"]) == {"3101", "3103"}


def test_restatements_of_one_municipality_keep_the_classification_closest_to_the_year(write_file) -> None:
    # 0715 Holmestrand (2018-2019; Holmestrand + Hof) and 3802 Holmestrand (2020-; + Sande) both restate 2014
    rows = "K0715;Holmestrand (t.o.m. 2019);20;\nK3802;Holmestrand;23;30\n"
    result = import_files([write_file("w.csv", _wide([2014, 2022], rows), "latin-1")])
    assert _settled(result) == {("0715", 2014): (20, 2019), ("3802", 2022): (30, 2022)}
    assert _reasons(result)[("3802", 2014)] == restated.RESTATED_CLOSER_REASON.format(first=2020)
    _harmonised_totals_kept(result.tables["kommune_settlement_year"])


def test_a_restatement_under_a_renumbered_code_is_the_years_own_municipality(write_file) -> None:
    # 5005 Namsos (2018-2019) is 1703 Namsos renumbered, 5040 Namdalseid is 1725; 5007 Namsos (2020-)
    # restates 2014 for the merged municipality. The 2014 values go back to the 2014 codes.
    rows = "K5005;Namsos (t.o.m. 2019);20;\nK5040;Namdalseid (t.o.m. 2019);3;\nK5007;Namsos;23;30\n"
    result = import_files([write_file("w.csv", _wide([2014, 2022], rows), "latin-1")])
    assert _settled(result) == {("1703", 2014): (20, 2017), ("1725", 2014): (3, 2017), ("5007", 2022): (30, 2022)}
    assert _reasons(result)[("5007", 2014)] == restated.RESTATED_REASON.format(first=2020)
    assert codes.renumbered_from("5005", 2014) == "1703" and codes.renumbered_from("5030", 2010) == "1662"
    assert codes.renumbered_from("5007", 2014) is None  # a merger, not a renumbering
    assert codes.renumbered_from("5005", 2018) is None  # already valid
    _harmonised_totals_kept(result.tables["kommune_settlement_year"])


def test_an_ended_code_that_was_only_renumbered_is_recoded_when_it_meets_others(write_file) -> None:
    # IMDi books Trondheim 2018 under 1601 (KLASS: 5001 from 2018); Klæbu joins 5001 in 2020
    rows = "K1601;Trondheim (t.o.m. 2019);100\nK5030;Klæbu (t.o.m. 2019);5\n"
    result = import_files([write_file("w.csv", _wide([2018], rows), "latin-1")])
    assert _settled(result) == {("5001", 2018): (100, 2018), ("5030", 2018): (5, 2018)}
    assert result.summary["files"][0]["codes_recoded"] == [{"from": "1601", "to": "5001", "year": 2018, "records": 1}]
    assert codes.renumbered_to("1601", 2018) == "5001" and codes.renumbered_to("1915", 2013) is None
    _harmonised_totals_kept(result.tables["kommune_settlement_year"])


def test_a_code_keeps_its_data_year_unit(write_file) -> None:
    # 1103 Stavanger took in 1141 Finnøy in 2020 under its own code: its 2014 value is the old Stavanger
    rows = "K1103;Stavanger;112;150\nK1141;Finnøy (t.o.m. 2019);4;\n"
    result = import_files([write_file("w.csv", _wide([2014, 2022], rows), "latin-1")])
    assert _settled(result) == {("1103", 2014): (112, 2019), ("1141", 2014): (4, 2019), ("1103", 2022): (150, 2022)}
    assert codes.stable_until("1103", 2014) == 2019 and codes.stable_until("0301", 2014) is None
    out = _harmonised_totals_kept(result.tables["kommune_settlement_year"])
    assert out.filter(pl.col("year") == 2014).select("kommune_nr", "settled").rows() == [("1103", 116)]


def test_codes_ended_before_2011_keep_their_own_years(write_file) -> None:
    # 0718 Ramnes (ended 2001, merged with 0716 Våle into 0716 Re): its own row is kept in its own
    # classification (2001). The 0716 row of 1998 is Våle's own (codes.REUSED_CODE_RULE), kept beside it.
    rows = "K0718;;15;.\nK0716;Re (t.o.m. 2019);15;2\n"
    result = import_files([write_file("w.csv", _wide([1998, 2012], rows), "latin-1")])
    assert _settled(result) == {("0718", 1998): (15, 2001), ("0716", 1998): (15, 2001), ("0716", 2012): (2, 2012)}
    reasons = _reasons(result)
    assert ("0716", 1998) not in reasons
    assert reasons[("0718", 2012)].startswith("code had ended before the data year (KLASS 131: last valid 2001)")
    # Re kept code 0716 and absorbed Ramnes: a merge, never a renumbering of 0718
    assert codes.renumbered_to("0718", 2012) is None and codes.renumbered_to("1842", 2010) is None
    _harmonised_totals_kept(result.tables["kommune_settlement_year"])


# --- the real recorded exports ---------------------------------------------------------------------


def _paths(real_data: Path) -> tuple[list[Path], list[Path], Path]:
    flat = sorted((real_data / "imdi_2015_flat").glob("*.csv"))
    raw = sorted((real_data / "imdi_2015_raw").glob("*.csv"))
    return flat, raw, real_data / "misc" / WIDE_NAME


@pytest.fixture(scope="module")
def combined(real_data: Path) -> ImportResult:
    flat, raw, wide = _paths(real_data)
    return import_files([*flat, *raw, wide], prefer=["imdi-2015"])


@pytest.fixture(scope="module")
def flat_only(real_data: Path) -> ImportResult:
    return import_files(_paths(real_data)[0])


@pytest.fixture(scope="module")
def national(real_data: Path) -> dict[int, tuple[int, int]]:
    """year -> (IMDi's national settled, settled with unknown municipality (county 99))."""
    rec = read_file(real_data / "imdi_2015_flat" / "bosatt_anmodede.csv").records.filter(
        (pl.col("enhet") == "personer") & (pl.col("dims") == "bosetting=bosatt")
    )
    out = {}
    for year in (2012, 2013, 2014):
        nat = rec.filter((pl.col("geo_level") == "land") & (pl.col("year") == year))["value_raw"][0]
        unk = rec.filter((pl.col("geo_level") == "fylke") & (pl.col("code_raw") == "99") & (pl.col("year") == year))
        unk_raw = unk["value_raw"][0] if unk.height else "0"
        out[year] = (int(nat), int(unk_raw) if unk_raw.isdigit() else 0)
    return out


@pytest.mark.real_data
def test_one_row_per_municipality_and_year_in_the_years_own_codes(combined: ImportResult) -> None:
    assert combined.unexplained == 0
    for name in ("kommune_settlement_year", "kommune_intro_year", "kommune_context_year"):
        frame = combined.tables[name]
        assert frame.select("kommune_nr", "year").is_unique().all(), name
        get_model(name).validate(frame, lazy=True)
    s = combined.tables["kommune_settlement_year"].filter(pl.col("year").is_between(2012, 2014))
    # the preferred 2015 edition gives 2012-2014 in the 428 codes of 2014 (1903 Harstad restating
    # 1901 + 1915 in 2012, as the 2015 edition publishes it)
    assert s.group_by("year").len().sort("year")["len"].to_list() == [428, 428, 428]
    assert s["classification_year"].unique().to_list() == [2014]


@pytest.mark.real_data
def test_settlement_sums_reconcile_with_the_national_rows(
    combined: ImportResult, flat_only: ImportResult, national: dict[int, tuple[int, int]]
) -> None:
    keys = ["kommune_nr", "year"]
    flat = flat_only.tables["kommune_settlement_year"].filter(pl.col("year").is_between(2012, 2014))
    both = combined.tables["kommune_settlement_year"].filter(pl.col("year").is_between(2012, 2014))
    cols = [*keys, *COUNTS, *(f"{c}_symbol" for c in COUNTS)]
    assert both.select(cols).sort(keys).equals(flat.select(cols).sort(keys))  # nothing lost, nothing added
    nat_table = combined.tables["national_settlement_year"]
    for year, (nat, unknown) in national.items():
        total = int(both.filter(pl.col("year") == year)["settled"].sum())
        assert total + unknown == nat, year  # exact: IMDi's national row, to the person
        row = nat_table.filter(pl.col("year") == year).row(0, named=True)
        assert (row["settled"], row["settled_unknown_kommune"] or 0, row["edition"]) == (nat, unknown, "imdi-2015")


@pytest.mark.real_data
def test_restatements_inside_an_edition_are_resolved_there(combined: ImportResult) -> None:
    files = {f["file"]: f for f in combined.summary["files"]}
    later = restated.RESTATED_REASON.format(first=2020)
    assert files[WIDE_NAME]["rejected_by_reason"][later] > 0  # e.g. 5402 Harstad restating 1901's years
    # the 2015 edition's 1903 Harstad for 2012 is its own restatement: kept (no own row in that edition)
    s = combined.tables["kommune_settlement_year"]
    assert "1903" in set(s.filter(pl.col("year") == 2012)["kommune_nr"])
    # ... and the 2022 edition's own 1901 + 1915 for 2012 are listed as a restatement across codes
    rs = combined.assembled.restatements.filter(
        (pl.col("year") == 2012) & (pl.col("measure") == "requested") & (pl.col("chosen_codes") == "1903")
    )
    assert rs.select("other_codes", "chosen_value", "other_value").rows() == [("1901+1915", 0.0, 70.0)]
    assert combined.summary["restated"]["rows_by_status_and_outcome"]["restated/rejected"] > 0


@pytest.mark.real_data
@pytest.mark.slow
def test_build_and_harmonise_the_combination(combined: ImportResult, tmp_path: Path,
                                              national: dict[int, tuple[int, int]]) -> None:
    write_outputs(combined, tmp_path / "raw" / "imdi")
    (report,) = build(tmp_path / "raw", tmp_path / "clean", log=lambda _msg: None)
    assert report.status == "built"
    assert {t.table: t.quarantined for t in report.tables.values()} == dict.fromkeys(report.tables, 0)
    # exact now: the municipalities plus the unknown row equal each edition's national row
    assert "national_sum_reconciles" not in {w.rule for w in report.warnings}, [
        w.message for w in report.warnings if w.rule == "national_sum_reconciles"]
    built = pl.read_parquet(tmp_path / "clean" / "imdi" / "kommune_settlement_year.parquet")
    out = _harmonised_totals_kept(built)
    get_model("kommune_settlement_year").validate(out.drop(FLAG_COLUMNS), lazy=True)
    assert out.select("kommune_nr", "year").is_unique().all()
    for year, (nat, _unknown) in national.items():
        assert int(out.filter(pl.col("year") == year)["settled"].sum()) <= nat


@pytest.mark.real_data
def test_the_2022_export_alone_harmonises(real_data: Path) -> None:
    result = import_files([_paths(real_data)[2]])
    s = result.tables["kommune_settlement_year"]
    assert s.select("kommune_nr", "year").is_unique().all()
    # no 0101 row in this export: 3001 Halden's 2014 restatement is kept, classified 2020-2023
    halden = s.filter((pl.col("kommune_nr") == "3001") & (pl.col("year") == 2014))
    assert halden["classification_year"].to_list() == [2022]
    # Trondheim 2018/2019 booked under 1601 (ended 2017) meets Klæbu: recoded to 5001
    recoded = [r for r in result.summary["files"][0]["codes_recoded"] if r["from"] == "1601"]
    assert [(r["to"], r["year"]) for r in recoded] == [("5001", 2018), ("5001", 2019)]
    _harmonised_totals_kept(s)
