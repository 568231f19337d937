"""import-imdi writes lineage/<table>.parquet; the build carries it to data_clean with clean rows."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import polars as pl

from settlement_research.build import build
from settlement_research.model.lineage import TableLineage
from settlement_research.pipeline.lineage import split_steps
from settlement_research.pipeline.manifest import verify
from settlement_research.sources import imdi


def _record(path: Path, nr: int, encoding: str, sep: str) -> list[str]:
    """Record ``nr`` (1-based, header records counted) as the csv module reads it: the hand check."""
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline=""), delimiter=sep))[nr - 1]


def _imported(tmp_path: Path, files: list[Path]) -> tuple[Path, Path]:
    result = imdi.import_files(files)
    raw = tmp_path / "raw"
    imdi.write_outputs(result, raw / "imdi")
    build(raw, tmp_path / "clean", log=lambda _m: None)
    return raw / "imdi", tmp_path / "clean" / "imdi"


def test_every_cell_names_its_records_and_the_records_hold_the_value(
    tmp_path: Path, flat_file: Path, raw_settlement_file: Path
) -> None:
    raw, clean = _imported(tmp_path, [flat_file, raw_settlement_file])
    assert (raw / "lineage" / "kommune_settlement_year.parquet").is_file()
    provenance = json.loads((raw / "PROVENANCE.json").read_text("utf-8"))
    assert "lineage/kommune_settlement_year.parquet" in {f["path"] for f in provenance["files"]}

    lin = TableLineage.validate(pl.read_parquet(clean / "lineage" / "kommune_settlement_year.parquet"))
    table = pl.read_parquet(clean / "kommune_settlement_year.parquet")
    halden = lin.filter((pl.col("key") == "kommune_nr=0101;year=2014") & (pl.col("column") == "settled"))
    assert halden.height == 2  # the flat and the raw wide export agree, so both are origins
    by_file = {r["file"]: r for r in halden.to_dicts()}
    flat, wide = by_file["bosatt_anmodede.csv"], by_file["09_1-bosatt_anmodede-kommune-2014.csv"]
    assert flat["record"] == 5 and flat["cell"] is None and flat["value_raw"] == "22"
    assert wide["record"] == 3 and wide["cell"] == "bosetting.bosatt | enhet.personer"
    # by hand: the records named hold 22, and so does the clean row the lineage points at
    assert _record(flat_file, 5, "utf-8", ",")[2:5] == ["bosatt", "personer", "22"]
    assert _record(raw_settlement_file, 3, "latin-1", ";")[:6] == ["0101 Halden", "101", "Halden", "35", "100", "22"]
    row = table.row(flat["row"] - 1, named=True)
    assert (row["kommune_nr"], row["year"], row["settled"]) == ("0101", 2014, 22)
    assert flat["edition"] == wide["edition"] == "imdi-2015"
    import hashlib
    assert flat["file_sha256"] == hashlib.sha256(flat_file.read_bytes()).hexdigest()
    steps = split_steps(wide["steps"])
    assert steps[0].startswith("read raw_wide_2015 export 09_1-bosatt_anmodede-kommune-2014.csv")
    assert any("leading zero" in s and "0101" in s for s in steps)
    assert steps[-1].startswith("build: validated")


def test_every_clean_row_has_lineage_and_the_manifest_covers_it(
    tmp_path: Path, flat_file: Path, raw_settlement_file: Path
) -> None:
    _raw, clean = _imported(tmp_path, [flat_file, raw_settlement_file])
    for path in sorted(clean.glob("*.parquet")):
        lin = pl.read_parquet(clean / "lineage" / path.name)
        rows = pl.read_parquet(path).height
        assert sorted(lin["row"].unique().to_list()) == list(range(1, rows + 1)), path.name
    assert verify(clean.parent).ok
    # a lineage file changed after the build is a manifest mismatch
    target = clean / "lineage" / "kommune_settlement_year.parquet"
    pl.read_parquet(target).with_columns(pl.lit("edited").alias("value_raw")).write_parquet(target)
    assert not verify(clean.parent).ok


def test_a_symbol_cell_is_traced_to_the_record_that_holds_the_symbol(tmp_path: Path, flat_file: Path) -> None:
    _raw, clean = _imported(tmp_path, [flat_file])
    lin = pl.read_parquet(clean / "lineage" / "kommune_settlement_year.parquet")
    oslo = lin.filter((pl.col("key") == "kommune_nr=0301;year=2014") & (pl.col("column") == "settled")).row(0, named=True)
    assert oslo["value_raw"] == ":" and oslo["record"] == 9
    assert any("status symbol ':'" in s for s in split_steps(oslo["steps"]))
