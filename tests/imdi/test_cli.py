"""The import-imdi command, its output folder, and read() as the build sees it."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from settlement_research.cli import COMMANDS, main
from settlement_research.io import sha256_file
from settlement_research.model import get_model
from settlement_research.sources import imdi


def test_command_is_registered() -> None:
    assert COMMANDS["import-imdi"][0] == "settlement_research.sources.imdi"
    assert imdi.SOURCE_NAME == "imdi"


def test_cli_writes_tables_rejected_summary_and_provenance(
    tmp_path: Path, flat_file: Path, raw_settlement_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    # two municipalities of 428: a partial export, accepted only on request
    assert main(["import-imdi", str(flat_file), str(raw_settlement_file), "--out", str(out), "--allow-partial"]) == 0
    printed = capsys.readouterr().out
    assert "zero unexplained rows" in printed and "bosatt_anmodede.csv" in printed
    assert "PARTIAL export" in printed
    for name in ("kommune_settlement_year", "national_settlement_year", "kommune"):
        assert (out / f"{name}.parquet").is_file()
    rejected = pl.read_parquet(out / "rejected.parquet")
    assert rejected.height > 0 and rejected["reason"].null_count() == 0
    summary = json.loads((out / "import_summary.json").read_text("utf-8"))
    assert summary["totals"]["unexplained"] == 0
    assert summary["totals"]["rejected"] == rejected.height
    prov = json.loads((out / "PROVENANCE.json").read_text("utf-8"))
    assert prov["source"] == "imdi" and prov["imported_at"]
    inputs = {i["name"]: i for i in prov["inputs"]}
    assert inputs[flat_file.name]["sha256"] == sha256_file(flat_file)
    assert inputs[flat_file.name]["size"] == flat_file.stat().st_size
    assert (inputs[flat_file.name]["layout"], inputs[raw_settlement_file.name]["layout"]) == (
        "flat_long", "raw_wide_2015",
    )
    assert inputs[raw_settlement_file.name]["encoding"] == "latin-1"
    for entry in prov["files"]:  # what the build verifies before reading
        assert sha256_file(out / entry["path"]) == entry["sha256"]


def test_cli_rejects_missing_files(tmp_path: Path) -> None:
    assert main(["import-imdi", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")]) == 2


def test_default_out_dir_is_data_raw_imdi(
    tmp_path: Path, flat_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SETTLEMENT_RESEARCH_RAW", str(tmp_path / "raw"))
    assert main(["import-imdi", str(flat_file), "--allow-partial"]) == 0
    assert (tmp_path / "raw" / "imdi" / "kommune_settlement_year.parquet").is_file()


def test_read_returns_model_tables_that_validate(tmp_path: Path, flat_file: Path, wide_2022_file: Path) -> None:
    result = imdi.import_files([flat_file, wide_2022_file])
    imdi.write_outputs(result, tmp_path / "imdi")
    frames = imdi.read(tmp_path / "imdi")
    assert set(frames) == set(result.tables)
    for name, lazy in frames.items():
        assert isinstance(lazy, pl.LazyFrame)
        collected = lazy.collect()
        get_model(name).validate(collected, lazy=True)
        assert collected.equals(result.tables[name])


def test_a_new_import_replaces_the_previous_one(tmp_path: Path, flat_file: Path, raw_population_file: Path) -> None:
    out = tmp_path / "imdi"
    imdi.write_outputs(imdi.import_files([flat_file]), out)
    assert (out / "kommune_settlement_year.parquet").is_file()
    with pytest.raises(imdi.ImportRefused, match=r"kommune_settlement_year: 2 row\(s\), this import has none"):
        imdi.write_outputs(imdi.import_files([raw_population_file]), out)  # less data: refused
    assert (out / "kommune_settlement_year.parquet").is_file()
    imdi.write_outputs(imdi.import_files([raw_population_file]), out, replace=True)
    assert not (out / "kommune_settlement_year.parquet").exists()
    assert set(imdi.read(out)) == {"kommune_context_year", "kommune", "imdi_edition_value"}


def test_read_imports_exports_dropped_into_the_folder(tmp_path: Path, flat_file: Path) -> None:
    folder = tmp_path / "imdi"
    folder.mkdir()
    (folder / flat_file.name).write_bytes(flat_file.read_bytes())
    with pytest.raises(imdi.ImportRefused, match="(?s)incomplete export.*--allow-partial"):
        imdi.read(folder)  # two municipalities of 428: never built silently
    assert imdi.read(tmp_path / "empty") == {}


@pytest.mark.real_data
@pytest.mark.slow
def test_done_when_flat_import_then_build(real_data: Path, tmp_path: Path) -> None:
    """`import-imdi imdi_2015_flat/*.csv` then `build`: validated municipality-year tables."""
    build = pytest.importorskip("settlement_research.build")
    raw, clean = tmp_path / "raw", tmp_path / "clean"
    files = sorted(str(p) for p in (real_data / "imdi_2015_flat").glob("*.csv"))
    # bosetting.csv lacks 0101 Halden and flyktning_botid_flytting.csv 91 municipalities: partial
    assert main(["import-imdi", *files, "--out", str(raw / "imdi")]) == 2
    assert main(["import-imdi", *files, "--out", str(raw / "imdi"), "--allow-partial"]) == 0
    build.build(raw, clean, log=lambda _msg: None)
    partial = json.loads((clean / "MANIFEST.json").read_text())["sources"]["imdi"]["partial"]
    lacking = {f["file"]: [m["kommune_nr"] for m in f["missing"]] for f in partial["files"]}
    assert lacking["bosetting.csv"] == ["0101"] and len(lacking["flyktning_botid_flytting.csv"]) == 91
    s = pl.read_parquet(clean / "imdi" / "kommune_settlement_year.parquet")
    get_model("kommune_settlement_year").validate(s, lazy=True)
    assert {y: n for y, n in s.group_by("year").len().iter_rows()} == {2012: 428, 2013: 428, 2014: 428}
    years = set()
    for name in ("kommune_intro_year", "kommune_context_year"):
        frame = pl.read_parquet(clean / "imdi" / f"{name}.parquet")
        get_model(name).validate(frame, lazy=True)
        years |= set(frame["year"])
    assert {2012, 2013, 2014, 2015} <= years | set(s["year"])
    assert not (clean / "imdi" / "quarantine").exists() or not any((clean / "imdi" / "quarantine").iterdir())
