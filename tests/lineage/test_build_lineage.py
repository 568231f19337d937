"""The build writes data_clean/<source>/lineage/<table>.parquet for every clean table (synthetic)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from settlement_research.derive import SETTLED_ROUTES
from settlement_research.model import PERSON_TABLES, identifier_columns
from settlement_research.model.lineage import TableLineage
from settlement_research.pipeline import lineage
from settlement_research.pipeline.manifest import read_sources


@pytest.fixture(scope="module")
def clean(tiny_register: Path) -> Path:
    return tiny_register / "clean"


def test_every_clean_table_has_a_validated_lineage_listed_in_the_manifest(clean: Path) -> None:
    folder = clean / "synthetic"
    tables = sorted(p.stem for p in folder.glob("*.parquet"))
    entry = read_sources(clean)["synthetic"]
    listed = {f["table"]: f for f in entry["lineage"]}
    assert sorted(listed) == tables
    for table in tables:
        lin = TableLineage.validate(pl.read_parquet(folder / "lineage" / f"{table}.parquet"))
        rows = pl.scan_parquet(folder / f"{table}.parquet").select(pl.len()).collect().item()
        covered = lin.select(pl.int_ranges("row", pl.col("row") + pl.col("span")).alias("r")).explode("r")["r"]
        assert set(covered.to_list()) == set(range(1, rows + 1)), table
        assert set(lin["table"].unique()) == {table}


def test_a_read_row_names_its_file_and_data_row(clean: Path) -> None:
    lin = pl.read_parquet(clean / "synthetic" / "lineage" / "kommune_context_year.parquet")
    table = pl.read_parquet(clean / "synthetic" / "kommune_context_year.parquet")
    raw = pl.read_csv(clean.parent / "raw" / "synthetic" / "ssb_kommune_kontekst.csv", separator=";",
                      infer_schema=False)
    for r in lin.sample(5, seed=1).to_dicts():
        assert r["file"] == "ssb_kommune_kontekst.csv" and r["role"] == "row"
        clean_row = table.row(r["row"] - 1, named=True)
        assert r["key"] == f"kommune_nr={clean_row['kommune_nr']};year={clean_row['year']}"
        raw_row = raw.row(r["record"] - 1)
        assert clean_row["kommune_nr"] in raw_row and str(clean_row["year"]) in raw_row


def test_a_person_table_is_stored_as_runs_and_every_row_still_finds_its_record(clean: Path) -> None:
    lin = pl.read_parquet(clean / "synthetic" / "lineage" / "settlement.parquet")
    table = pl.read_parquet(clean / "synthetic" / "settlement.parquet")
    assert lin.height * 100 < table.height  # runs, not one lineage row per person
    assert lin["span"].sum() == table.height and (lin["file"] == "register_bosetting.csv").all()
    raw = pl.read_csv(clean.parent / "raw" / "synthetic" / "register_bosetting.csv", separator=";", infer_schema=False)
    runs = lin.sort("row")
    for r in [1, table.height // 3, table.height // 2, table.height]:
        run = runs.filter((pl.col("row") <= r) & (pl.col("row") + pl.col("span") > r)).row(0, named=True)
        record = run["record"] + r - run["row"]
        clean_row, raw_row = table.row(r - 1, named=True), raw.row(record - 1, named=True)
        assert raw_row["KOMMNR"] == clean_row["kommune_nr"]
        assert raw_row["BOSETTINGSDATO"].replace("-", "")[:8] == clean_row["settlement_date"].strftime("%Y%m%d")


def test_derived_cells_count_the_person_rows_and_keep_no_ids(clean: Path) -> None:
    folder = clean / "synthetic"
    lin = pl.read_parquet(folder / "lineage" / "kommune_settlement_year.parquet")
    table = pl.read_parquet(folder / "kommune_settlement_year.parquet")
    settled = lin.filter((pl.col("column") == "settled") & (pl.col("role") == "derived"))
    assert settled.height == table.height
    joined = settled.select("row", "derived_rows").join(
        table.with_row_index("row", offset=1).with_columns(pl.col("row").cast(pl.Int64)), on="row")
    # settled is a count of the settlement rows it was derived from
    assert (joined["derived_rows"] == joined["settled"].cast(pl.Int64)).all()
    person = pl.read_parquet(folder / "settlement.parquet")
    assert person.filter(pl.col("route").is_in(list(SETTLED_ROUTES))).height == settled["derived_rows"].sum()
    assert not settled["steps"].str.contains(r"from \d").any()
    ids = set()
    for t, cols in identifier_columns().items():
        ids |= set(pl.read_parquet(folder / f"{t}.parquet", columns=cols[:1]).get_column(cols[0]).head(200).to_list())
    for t in PERSON_TABLES:
        lin_t = pl.read_parquet(folder / "lineage" / f"{t}.parquet")
        assert lin_t["key"].null_count() == lin_t.height  # person tables: row position only
        text = " ".join(str(v) for v in lin_t.head(200).rows())
        assert not any(i in text for i in ids)


def test_lineage_can_be_switched_off_for_benchmarks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from settlement_research.build import build
    from settlement_research.sources.synthetic.writer import write_register

    write_register(tmp_path / "raw" / "synthetic", scale=0.01, seed=3)
    monkeypatch.setattr(lineage, "ENABLED", False)
    build(tmp_path / "raw", tmp_path / "clean", log=lambda _m: None)
    assert not list((tmp_path / "clean" / "synthetic" / "lineage").glob("*.parquet"))
    assert read_sources(tmp_path / "clean")["synthetic"]["lineage"] == []
