"""IMDi's real 2015 flat exports end to end: import -> build -> catalog -> harmonise to 2024.

The issue's "done when": the flat files alone build validated municipality-year tables for all 428
municipalities of 2014 (settlement 2012-2014, intro and context for the years the files give), and
harmonising them to the 2024 codes keeps every national count total. A merged cell with a missing
part ('.'/':' in one of the merged municipalities) is the sum of the known parts, flagged
partial:<col>, so every national total of known values is unchanged; with partial="null" the
identity is total before = total after + the known parts of the flagged (nulled) cells.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from settlement_research import catalog
from settlement_research.build import build
from settlement_research.cli import main
from settlement_research.harmonize import FLAG_COL, FLAG_COLUMNS, harmonize, shipped_changes
from settlement_research.model import get_model
from settlement_research.model.settlement import decision_status_expr
from settlement_research.relations import check_relations
from settlement_research.sources import imdi

pytestmark = [pytest.mark.real_data, pytest.mark.slow]

YEAR_TABLES = ["kommune_settlement_year", "kommune_intro_year", "kommune_context_year"]
# years each table must cover for every municipality of 2014 (what the flat files give)
EXPECTED_YEARS = {
    "kommune_settlement_year": [2012, 2013, 2014],
    "kommune_intro_year": [2012, 2014, 2015],  # status-after cohort 2012, leavers 2014, participants 2015
    "kommune_context_year": [2011, 2012, 2013, 2014],
}
NATIONAL_TOLERANCE = 0.05  # relations' default: suppressed cells and unknown-municipality rows


def _flat_files(real_data: Path) -> list[Path]:
    files = sorted((real_data / "imdi_2015_flat").glob("*.csv"))
    assert len(files) == 15
    return files


@pytest.fixture(scope="module")
def clean(real_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Import the flat files and build them into a tmp data_clean (the catalog reads it)."""
    root = tmp_path_factory.mktemp("imdi_e2e")
    result = imdi.import_files(_flat_files(real_data))
    assert result.unexplained == 0
    imdi.write_outputs(result, root / "raw" / "imdi")
    reports = build(root / "raw", root / "clean", log=lambda _msg: None)
    (report,) = reports
    assert report.status == "built"
    assert {t.table: t.quarantined for t in report.tables.values()} == {
        name: 0 for name in ["kommune", *YEAR_TABLES, "national_settlement_year", "imdi_edition_value"]
    }
    assert [w.rule for w in report.warnings] == ["settled_within_decided"]  # no errors, no other warning
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SETTLEMENT_RESEARCH_CLEAN", str(root / "clean"))
        yield root / "clean"


@pytest.fixture(scope="module")
def tables(clean: Path) -> dict[str, pl.DataFrame]:
    return {name: catalog.load(name, "imdi") for name in ["kommune", *YEAR_TABLES, "national_settlement_year"]}


def test_relations_hold_with_the_kommune_dimension(tables: dict[str, pl.DataFrame]) -> None:
    errors = [p for p in check_relations(tables) if p.severity == "error"]
    assert errors == []
    kommune = tables["kommune"]
    assert kommune["kommune_nr"].is_unique().all()
    valid_2014 = kommune.filter((pl.col("valid_from") <= 2014) & (pl.col("valid_to").fill_null(9999) >= 2014))
    assert valid_2014.height == 428
    assert set(valid_2014["kommune_nr"]) == set(shipped_changes().codes_at(2014))
    # the rule really runs: without 0301 Oslo every table's Oslo rows fail it
    broken = {**tables, "kommune": kommune.filter(pl.col("kommune_nr") != "0301")}
    failing = {p.table: p.n_rows for p in check_relations(broken) if p.rule == "kommune_valid_in_year"}
    assert failing == {
        "kommune_settlement_year": 3, "kommune_intro_year": 3, "kommune_context_year": 4,
    }


@pytest.mark.parametrize("table", YEAR_TABLES)
def test_all_428_municipalities_of_2014_every_year(tables: dict[str, pl.DataFrame], table: str) -> None:
    df = tables[table]
    codes_2014 = set(shipped_changes().codes_at(2014))
    assert sorted(df["year"].unique()) == EXPECTED_YEARS[table]
    # rows of later classifications: 2015 has the codes of 2014 (no change took effect in 2015)
    later = df.filter(pl.col("classification_year") > 2014)
    assert set(later["classification_year"]) <= {2015}
    assert set(shipped_changes().codes_at(2015)) == codes_2014
    on_2014 = pl.concat([
        harmonize(df.filter(pl.col("classification_year") <= 2014), 2014, table=table).drop(FLAG_COLUMNS),
        later,
    ])
    for year in EXPECTED_YEARS[table]:
        codes = on_2014.filter(pl.col("year") == year)["kommune_nr"]
        assert codes.is_unique().all() and set(codes) == codes_2014, (table, year)


def _count_columns(table: str) -> list[str]:
    schema = get_model(table).to_schema().columns
    return [n for n, c in schema.items() if (c.metadata or {}).get("unit") in {"persons", "NOK"}]


@pytest.mark.parametrize("table", YEAR_TABLES)
def test_harmonising_to_2024_keeps_national_totals(tables: dict[str, pl.DataFrame], table: str) -> None:
    df = tables[table]
    out = harmonize(df, 2024, table=table)
    assert out.height == 357 * len(EXPECTED_YEARS[table])
    assert set(out["kommune_nr"]) == set(shipped_changes().codes_at(2024))
    get_model(table).validate(out.drop(FLAG_COLUMNS), lazy=True)
    counts = _count_columns(table)
    assert counts
    for c in counts:
        before = df.group_by("year").agg(pl.col(c).sum()).sort("year")
        after = out.group_by("year").agg(pl.col(c).sum()).sort("year")
        assert after[c].to_list() == pytest.approx(before[c].to_list(), rel=1e-12, abs=1e-6), (table, c)


@pytest.mark.parametrize("table", YEAR_TABLES)
def test_partial_null_withholds_exactly_the_known_parts(tables: dict[str, pl.DataFrame], table: str) -> None:
    df = tables[table]
    summed = harmonize(df, 2024, table=table)
    nulled = harmonize(df, 2024, table=table, partial="null")
    joined = nulled.join(summed, on=["kommune_nr", "year"], suffix="_sum")
    for c in _count_columns(table):
        partial = pl.col(FLAG_COL).fill_null("").str.contains(f"partial:{c}(;|$)")
        # flagged cells are null under partial="null" and the sum of the known parts otherwise
        assert joined.filter(partial)[c].null_count() == joined.filter(partial).height, (table, c)
        same = joined.filter(~partial & pl.col(c).is_not_null())
        assert (same[c] == same[f"{c}_sum"]).all(), (table, c)
        before = df.group_by("year").agg(pl.col(c).sum()).sort("year")[c].to_list()
        after = joined.group_by("year").agg(pl.col(c).sum() + pl.col(f"{c}_sum").filter(partial).sum()).sort("year")
        assert after[c].to_list() == pytest.approx(before, rel=1e-12, abs=1e-6), (table, c)


def test_settlement_totals_status_and_national_rows(tables: dict[str, pl.DataFrame]) -> None:
    s = tables["kommune_settlement_year"]
    assert s["requested"].null_count() == 0 and s["settled"].null_count() == 0
    recomputed = s.with_columns(decision_status_expr().alias("recomputed"))
    assert (recomputed["recomputed"] == recomputed["decision_status"]).all()
    out = harmonize(s, 2024, table="kommune_settlement_year")
    again = out.with_columns(decision_status_expr().alias("recomputed"))
    assert (again["recomputed"] == again["decision_status"]).all()
    assert set(out["decision_status"]) <= {"as_requested", "fewer", "declined", "no_decision"}
    national = tables["national_settlement_year"].select("year", pl.col("settled").alias("national"))
    for frame in (s, out):
        sums = frame.group_by("year").agg(pl.col("settled").sum()).join(national, on="year")
        assert sums.height == 3
        gap = (sums["national"] - sums["settled"]) / sums["national"]
        assert ((gap >= 0) & (gap <= NATIONAL_TOLERANCE)).all(), sums
    # exact with the unknown-municipality row (fylke 99) kept on the national row
    nat = tables["national_settlement_year"].select(
        "year", (pl.col("settled") - pl.col("settled_unknown_kommune").fill_null(0)).alias("known"))
    sums = s.group_by("year").agg(pl.col("settled").sum()).join(nat, on="year")
    assert (sums["settled"] == sums["known"]).all(), sums


def test_the_same_through_the_command_line(
    real_data: Path, tmp_path: Path, tables: dict[str, pl.DataFrame], capsys: pytest.CaptureFixture[str]
) -> None:
    raw, clean = tmp_path / "raw", tmp_path / "clean"
    files = [str(p) for p in _flat_files(real_data)]
    # bosetting.csv lacks 0101 Halden, flyktning_botid_flytting.csv 91 municipalities: partial
    assert main(["import-imdi", *files, "--out", str(raw / "imdi"), "--allow-partial"]) == 0
    assert "zero unexplained rows" in capsys.readouterr().out
    assert main(["build", "--raw", str(raw), "--out", str(clean)]) == 0
    assert "quarantined" in capsys.readouterr().out
    for table in YEAR_TABLES:
        built = pl.read_parquet(clean / "imdi" / f"{table}.parquet")
        assert built.equals(tables[table]), table
        target = tmp_path / f"{table}_2024.parquet"
        assert main(["harmonize", str(clean / "imdi" / f"{table}.parquet"), "--to-year", "2024",
                     "--out", str(target)]) == 0
        assert "357 codes of 2024" in capsys.readouterr().out
        expected = harmonize(tables[table], 2024, table=table)
        assert pl.read_parquet(target).equals(expected), table
