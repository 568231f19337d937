"""Harmonised rows in lineage: the source codes and their weights, carried to `trace`.

Fixture: one municipality-year table in old codes with a merge (0104 Moss + 0136 Rygge, codes of
2019 -> 3103 in 2024), a split with weights (1507 Ålesund, codes of 2022 -> 1508 Ålesund and 1580
Haram by population 67 000 / 9 000) and a split along an older border (1534 Haram, codes of 2014 ->
1580, weight 1).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from settlement_research.cli import main
from settlement_research.harmonize import harmonize
from settlement_research.model import get_model
from settlement_research.model.lineage import TableLineage
from settlement_research.pipeline.lineage import LINEAGE_DIR, finish, harmonised_lineage, key_expr
from settlement_research.trace import trace

TABLE = "kommune_settlement_year"
CODES = {"0104": (2019, 10), "0136": (2019, 5), "1507": (2022, 30), "1534": (2014, 24)}  # code -> (year, settled)
WEIGHTS = pl.DataFrame({"kommune_nr": ["1508", "1580"], "year": [2024, 2024], "classification_year": [2024, 2024],
                        "population": [67000.0, 9000.0]}, schema_overrides={"year": pl.Int16, "classification_year": pl.Int16})


def old_codes() -> pl.DataFrame:
    """A valid kommune_settlement_year in the codes of each row's year."""
    schema = get_model(TABLE).to_schema()
    n = len(CODES)
    data: dict[str, list] = {c: [None] * n for c in schema.columns}
    data |= {"kommune_nr": list(CODES), "year": [y for y, _ in CODES.values()],
             "classification_year": [y for y, _ in CODES.values()], "decision_status": ["as_requested"] * n,
             **{c: [s for _, s in CODES.values()] for c in ("requested", "decided", "settled")}}
    return pl.DataFrame(data, schema={c: col.dtype.type for c, col in schema.columns.items()})


def read_lineage(before: pl.DataFrame) -> pl.DataFrame:
    """What the build would have recorded for the old table: each row read from record n of a file."""
    return finish(before.select(key_expr(TABLE)).with_row_index("row", offset=1).with_columns(
        pl.col("row").cast(pl.Int64), pl.lit(1).alias("origin_nr"), pl.lit(TABLE).alias("table"), pl.lit("test").alias("source"),
        pl.lit("row").alias("role"), pl.lit("old_codes.csv").alias("file"), (pl.col("row") + 1).alias("record"),
        pl.lit("read by a test source: data row `record` of old_codes.csv").alias("steps")))


def parts(lineage: pl.DataFrame, after: pl.DataFrame, code: str, year: int) -> dict[str, float]:
    row = after.with_row_index("r", offset=1).filter((pl.col("kommune_nr") == code) & (pl.col("year") == year))["r"][0]
    got = lineage.filter(pl.col("row") == row)
    assert set(got["key"]) == {f"kommune_nr={code};year={year}"}
    return dict(zip(got["from_key"].str.extract(r"kommune_nr=(\d{4})").to_list(), got["weight"].to_list(), strict=True))


def test_merge_split_and_renumbering_name_their_source_codes_and_weights() -> None:
    before = old_codes()
    after = harmonize(before, 2024, table=TABLE, weights=WEIGHTS)
    lineage = TableLineage.validate(harmonised_lineage(before, after, TABLE, "test", 2024))
    assert parts(lineage, after, "3103", 2019) == {"0104": 1.0, "0136": 1.0}  # merge: all of both
    assert parts(lineage, after, "1580", 2014) == {"1534": 1.0}  # Haram: its older border, weight 1
    split = parts(lineage, after, "1508", 2022) | {f"{k}->1580": v for k, v in parts(lineage, after, "1580", 2022).items()}
    assert split == {"1507": pytest.approx(67 / 76, abs=1e-4), "1507->1580": pytest.approx(9 / 76, abs=1e-4)}
    assert (lineage["role"] == "harmonised").all() and lineage["file"].is_null().all()
    steps = lineage["steps"].to_list()
    assert any("1507 (codes of 2022) -> 1580, weight 0.1184 (split by population share)" in s for s in steps)
    assert any("1534 (codes of 2014) -> 1580, weight 1.0 (the whole unit under a new code" in s for s in steps)
    assert any("0136 (codes of 2019) -> 3103, weight 1.0 (merge" in s for s in steps)


def test_the_parts_keep_their_own_origins_and_trace_prints_the_step(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    clean = tmp_path / "clean"
    old = clean / "old"
    (old / LINEAGE_DIR).mkdir(parents=True)
    before = old_codes()
    before.write_parquet(old / f"{TABLE}.parquet")
    read_lineage(before).write_parquet(old / LINEAGE_DIR / f"{TABLE}.parquet")
    weights = tmp_path / "population.parquet"
    WEIGHTS.write_parquet(weights)
    out = clean / "new" / f"{TABLE}.parquet"
    out.parent.mkdir()
    assert main(["harmonize", str(old / f"{TABLE}.parquet"), "--to-year", "2024", "--out", str(out),
                 "--weights", str(weights)]) == 0
    assert "lineage" in capsys.readouterr().out
    lineage = TableLineage.validate(pl.read_parquet(out.parent / LINEAGE_DIR / f"{TABLE}.parquet"))
    after = pl.read_parquet(out)
    assert lineage.height == 5 and (lineage["file"] == "old_codes.csv").all()
    merged = lineage.filter(pl.col("key") == "kommune_nr=3103;year=2019").sort("origin_nr")
    assert merged["record"].to_list() == [2, 3] and merged["weight"].to_list() == [1.0, 1.0]
    assert all(s.startswith("read by a test source") and s.endswith("(merge: all of it, summed with the other parts)")
               for s in merged["steps"])
    # a page showing the 2022 Haram cell, and trace from it back to the old code's file and record
    row = after.with_row_index("r", offset=1).filter((pl.col("kommune_nr") == "1580") & (pl.col("year") == 2022))
    page = tmp_path / "page.lineage.json"
    page.write_text(json.dumps({"source": "new", "threshold": 5, "numbers": [{
        "table": "settlement", "row": "2022", "row_nr": 1, "column": "settled", "text": str(row["settled"][0]),
        "status": "shown", "origin": {"source": "new", "table": TABLE, "column": "settled", "how": "",
                                      "clean": [{"key": "kommune_nr=1580;year=2022", "row": int(row["r"][0])}]}}]}))
    text = "\n".join(trace(page, "settlement:2022:settled", clean_dir=clean))
    assert "harmonised from kommune_nr=1507;year=2022, weight 0.1184, old_codes.csv" in text and "record 4" in text
    assert "harmonised by harmonize.py to the municipality codes of 2024: 1507 (codes of 2022) -> 1580" in text
    assert "split by population share" in text


def test_an_imdi_code_recoded_to_its_namesake_names_the_code_it_was_published_under(tmp_path: Path) -> None:
    from settlement_research.pipeline.lineage_imdi import import_lineage
    from settlement_research.sources.imdi import import_files

    path = tmp_path / "vedvarende_lavinntekt.csv"
    path.write_text(
        '"aar","innvkat_3","vreg_3","enhet","tabellvariabel","tabell_navn","kommune_nr"\n'
        '"2013","alle","alle","prosent","3.5","vedvarende_lavinntekt","1901"\n'
        '"2013","alle","alle","prosent","2.5","vedvarende_lavinntekt","1902"\n', "utf-8")
    lineage = import_lineage(import_files([path]))["kommune_context_year"]
    recoded = lineage.filter(pl.col("key") == "kommune_nr=1903;year=2013").row(0, named=True)
    assert (recoded["from_key"], recoded["weight"], recoded["record"]) == ("kommune_nr=1901;year=2013", 1.0, 2)
    assert "stale code 1901 recoded to its namesake successor 1903" in recoded["steps"]
    kept = lineage.filter(pl.col("key") == "kommune_nr=1902;year=2013").row(0, named=True)
    assert kept["from_key"] is None and kept["weight"] is None
