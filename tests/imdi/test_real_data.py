"""The importer against the real recorded IMDi exports in ../shared/real_data (skipped if absent).

Reconciliation tolerance (documented): municipal sums of requested and decided equal the national
row exactly; settled falls short of it by exactly the county-99 row (persons settled with an
unknown municipality: 65 in 2014, 0.84 %), so the tolerance is 1 %; introduction-programme
participants fall short by what the suppressed ':' cells hide (each between 1 and 4 persons).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from settlement_research.model import get_model
from settlement_research.regions import COUNTIES_2014
from settlement_research.sources.imdi import ImportResult, import_files, read_file
from settlement_research.sources.imdi import assemble as asm

pytestmark = pytest.mark.real_data

SETTLEMENT_COLUMNS = ["requested", "decided", "settled"]
NATIONAL_TOLERANCE = 0.01
SUPPRESSED_MIN, SUPPRESSED_MAX = 1, 4


def _flat(real_data: Path) -> list[Path]:
    return sorted((real_data / "imdi_2015_flat").glob("*.csv"))


def _raw(real_data: Path) -> list[Path]:
    return sorted((real_data / "imdi_2015_raw").glob("*.csv"))


def _wide(real_data: Path) -> Path:
    return real_data / "misc" / "imdi_bosatt_anmodede_wide_per_2022-09.csv"


@pytest.fixture(scope="session")
def flat_result(real_data: Path) -> ImportResult:
    return import_files(_flat(real_data))


@pytest.fixture(scope="session")
def flat_raw_result(real_data: Path) -> ImportResult:
    return import_files([*_flat(real_data), *_raw(real_data)])


@pytest.fixture(scope="session")
def all_result(real_data: Path) -> ImportResult:
    return import_files([*_flat(real_data), *_raw(real_data), _wide(real_data)])


def test_every_real_file_imports_with_zero_unexplained_rows(real_data: Path, all_result: ImportResult) -> None:
    files = {f["file"]: f for f in all_result.summary["files"]}
    expected = [p.name for p in (*_flat(real_data), *_raw(real_data), _wide(real_data))]
    assert sorted(files) == sorted(expected) and len(expected) == 15 + 13 + 1
    for name, f in files.items():
        assert f["read"] > 0, name
        assert f["unexplained"] == 0, name
        assert f["imported"] + f["rejected"] == f["read"], name
        assert all(n > 0 for n in f["rejected_by_reason"].values()), name
    assert all_result.summary["totals"]["unexplained"] == 0
    layouts = {name: (f["layout"], f["encoding"]) for name, f in files.items()}
    assert {layouts[p.name][0] for p in _flat(real_data)} == {"flat_long"}
    assert {layouts[p.name] for p in _raw(real_data)} == {("raw_wide_2015", "latin-1")}
    assert layouts[_wide(real_data).name] == ("wide_2022", "latin-1")
    # the rejected list holds exactly the rejected records, each with a reason
    assert all_result.rejected.height == all_result.summary["totals"]["rejected"]
    assert all_result.rejected["reason"].null_count() == 0


def test_the_2015_edition_files_agree_with_each_other(
    flat_raw_result: ImportResult, all_result: ImportResult
) -> None:
    """Flat and raw 2015 files never disagree; the 2022 edition restates ('.' for 0, ':' for small),
    which is listed between editions, never a conflict."""
    assert flat_raw_result.assembled.conflicts.is_empty()
    assert flat_raw_result.summary["totals"]["unexplained"] == 0
    assert all_result.assembled.conflicts.is_empty()
    restated = all_result.assembled.restatements
    assert restated.height > 0
    assert set(restated["other_edition"]) | set(restated["chosen_edition"].drop_nulls()) == {
        "imdi-2015", "imdi-per-2022-09-30",
    }


def test_flat_and_raw_wide_2014_settlement_agree_for_every_municipality(real_data: Path) -> None:
    flat = import_files([real_data / "imdi_2015_flat" / "bosatt_anmodede.csv"]).tables["kommune_settlement_year"]
    raw = import_files([real_data / "imdi_2015_raw" / "09_1-bosatt_anmodede-kommune-2014.csv"]).tables[
        "kommune_settlement_year"
    ]
    cols = ["kommune_nr", *SETTLEMENT_COLUMNS, *(f"{c}_symbol" for c in SETTLEMENT_COLUMNS), "decision_status"]
    flat14 = flat.filter(pl.col("year") == 2014).select(cols).sort("kommune_nr")
    raw14 = raw.filter(pl.col("year") == 2014).select(cols).sort("kommune_nr")
    assert flat14.height == raw14.height == 428
    assert flat14.equals(raw14)  # values, symbols (nulls included) and derived status
    assert raw14["decided_symbol"].drop_nulls().len() > 0  # the comparison covers symbols too


def test_428_municipalities_of_2014_for_2012_to_2014(flat_result: ImportResult) -> None:
    s = flat_result.tables["kommune_settlement_year"]
    per_year = {
        y: set(frame["kommune_nr"]) for (y,), frame in s.partition_by("year", as_dict=True).items()
    }
    assert sorted(per_year) == [2012, 2013, 2014]
    assert all(len(codes) == 428 for codes in per_year.values())
    assert per_year[2012] == per_year[2013] == per_year[2014]
    assert s["classification_year"].unique().to_list() == [2014]
    by_county = pl.Series(sorted(per_year[2014])).str.slice(0, 2).value_counts()
    assert {f: n for f, n in by_county.iter_rows()} == {f: c[1] for f, c in COUNTIES_2014.items()}


def test_codes_keep_leading_zeros(
    flat_result: ImportResult, flat_raw_result: ImportResult, all_result: ImportResult
) -> None:
    for result in (flat_result, flat_raw_result, all_result):
        for name, frame in result.tables.items():
            if "kommune_nr" in frame.columns:
                assert frame["kommune_nr"].str.contains(r"^\d{4}$").all(), name
        s = result.tables["kommune_settlement_year"]
        codes = set(s["kommune_nr"])
        # Halden is 0101 in the 2015 edition, 3001 in the export per 2022-09 (preferred when imported)
        assert "0301" in codes and {"0101", "3001"} & codes and not {"301", "101"} & codes
    kommune = flat_raw_result.tables["kommune"]
    names = dict(zip(kommune["kommune_nr"], kommune["kommune_name"], strict=True))
    assert names["0101"] == "Halden" and names["0301"].startswith("Oslo")
    raw_files = [f for f in flat_raw_result.summary["files"] if f["layout"] == "raw_wide_2015"]
    assert all(f["rows_with_leading_zero_restored"] > 0 for f in raw_files)


def test_symbols_never_become_zero(real_data: Path, all_result: ImportResult) -> None:
    for name, frame in all_result.tables.items():
        for col in (c for c in frame.columns if c.endswith("_symbol")):
            clash = frame.filter(pl.col(col).is_not_null() & pl.col(col.removesuffix("_symbol")).is_not_null())
            assert clash.is_empty(), (name, col)
    # every suppressed participants cell of the flat file is a ':' symbol in the table, not a 0
    rec = read_file(real_data / "imdi_2015_flat" / "intro_deltakere.csv").records
    src = rec.filter((pl.col("geo_level") == "kommune") & (pl.col("dims") == "kjonn=alle")
                     & (pl.col("code_raw") != "9999"))
    intro = all_result.tables["kommune_intro_year"].filter(pl.col("year") == 2015)
    assert (src["value_raw"] == ":").sum() == (intro["participants_symbol"] == ":").sum() > 0
    assert (src["value_raw"] == ".").sum() == (intro["participants_symbol"] == ".").sum() > 0


def test_municipal_settlement_sums_reconcile_with_national_rows(real_data: Path, flat_result: ImportResult) -> None:
    rec = read_file(real_data / "imdi_2015_flat" / "bosatt_anmodede.csv").records
    persons = rec.filter(pl.col("enhet") == "personer")
    national = persons.filter(pl.col("geo_level") == "land")
    unknown = persons.filter((pl.col("geo_level") == "fylke") & (pl.col("code_raw") == "99"))
    s = flat_result.tables["kommune_settlement_year"]
    for year in (2012, 2013, 2014):
        for measure in SETTLEMENT_COLUMNS:
            dims = f"bosetting={ {'requested': 'anmodning', 'decided': 'vedtak', 'settled': 'bosatt'}[measure]}"
            nat = int(national.filter((pl.col("year") == year) & (pl.col("dims") == dims))["value_raw"][0])
            unk_raw = unknown.filter((pl.col("year") == year) & (pl.col("dims") == dims))["value_raw"][0]
            unk = int(unk_raw) if unk_raw.isdigit() else 0
            total = int(s.filter(pl.col("year") == year)[measure].sum())
            assert total + unk == nat, (year, measure)
            assert abs(nat - total) / nat <= NATIONAL_TOLERANCE, (year, measure)
    nat_table = flat_result.tables["national_settlement_year"]
    assert nat_table["year"].to_list() == [2012, 2013, 2014]
    assert nat_table["settled"].to_list() == [5757, 6511, 7784]


def test_suppressed_cells_explain_the_participants_gap(real_data: Path, flat_result: ImportResult) -> None:
    rec = read_file(real_data / "imdi_2015_flat" / "intro_deltakere.csv").records
    nat = int(rec.filter((pl.col("geo_level") == "land") & (pl.col("dims") == "kjonn=alle"))["value_raw"][0])
    intro = flat_result.tables["kommune_intro_year"].filter(pl.col("year") == 2015)
    gap = nat - int(intro["participants"].sum())
    suppressed = int((intro["participants_symbol"] == ":").sum())
    assert suppressed > 0
    assert SUPPRESSED_MIN * suppressed <= gap <= SUPPRESSED_MAX * suppressed


def test_outputs_pass_their_pandera_models(
    flat_result: ImportResult, flat_raw_result: ImportResult, all_result: ImportResult
) -> None:
    assert set(flat_result.tables) == {
        "kommune", "kommune_settlement_year", "kommune_intro_year", "kommune_context_year",
        "national_settlement_year", "imdi_edition_value",
    }
    assert "kommune" in flat_raw_result.tables and "kommune" in all_result.tables
    for result in (flat_result, flat_raw_result, all_result):
        for name, frame in result.tables.items():
            assert frame.height > 0
            get_model(name).validate(frame, lazy=True)


def test_kommune_dimension_covers_every_code_used(flat_raw_result: ImportResult) -> None:
    """Every (kommune_nr, classification_year) of the year tables lies in a kommune version."""
    kommune = flat_raw_result.tables["kommune"]
    # the 428 of 2014 + 1723 Mosvik, 1729 Inderøy, 1901 Harstad, 1915 Bjarkøy (valid 2011-2012)
    assert kommune.height == 428 + 4
    for name in ("kommune_settlement_year", "kommune_intro_year", "kommune_context_year"):
        used = flat_raw_result.tables[name].select("kommune_nr", "classification_year").unique()
        joined = used.join(kommune, on="kommune_nr", how="left")
        inside = (pl.col("valid_from") <= pl.col("classification_year")) & (
            pl.col("classification_year") <= pl.col("valid_to").fill_null(9999)  # null = still valid
        )
        assert joined.filter(~inside.fill_null(False)).is_empty(), name
    assert kommune.filter(pl.col("kommune_nr") == "1901")["valid_to"].to_list() == [2012]


def test_context_measures_from_the_flat_exports(flat_result: ImportResult) -> None:
    c = flat_result.tables["kommune_context_year"]
    years = sorted(c["year"].unique())
    assert years == [2011, 2012, 2013, 2014]
    oslo14 = c.filter((pl.col("kommune_nr") == "0301") & (pl.col("year") == 2014)).to_dicts()[0]
    assert oslo14["refugees"] == 41611  # innvandringsgrunn flukt
    assert oslo14["refugees_short_residence"] == 4388
    oslo13 = c.filter((pl.col("kommune_nr") == "0301") & (pl.col("year") == 2013)).to_dicts()[0]
    assert oslo13["persistent_low_income_share"] == pytest.approx(0.137)
    # sosialhjelp gives the composition of recipients, not a rate: never taken for one
    assert c["social_assistance_share"].null_count() == c.height
    # Harstad: the SSB-based files use the ended code 1901 for 2013/2014; recoded to 1903 and recorded
    assert "1901" not in set(c.filter(pl.col("year") >= 2013)["kommune_nr"])
    recoded = {f["file"]: f["codes_recoded"] for f in flat_result.summary["files"]}
    assert recoded["sosialhjelp.csv"] == [{"from": "1901", "to": "1903", "year": 2013, "records": 30}]
    # grants booked in 2012 on Inderøy's old code 1729 are added to 1756's of the same year (the
    # municipal sum equals the national row only with both), so no year holds both codes
    assert c.filter((pl.col("kommune_nr") == "1729") & (pl.col("year") == 2012)).is_empty()
    new = c.filter((pl.col("kommune_nr") == "1756") & (pl.col("year") == 2012)).to_dicts()[0]
    assert new["imdi_grants_nok"] == 3800750 + 1536250
    folded = flat_result.rejected.filter(pl.col("reason") == asm.FOLDED)
    assert folded.select("kommune_nr", "year", "value_raw").rows() == [("1729", 2012, "1536250")]
