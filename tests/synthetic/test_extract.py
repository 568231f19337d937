"""The raw extract: byte-identical for one seed, a real extract's layout, and tables that validate."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from settlement_research.cli import main
from settlement_research.model import PERSON_TABLES, TABLES, get_model
from settlement_research.sources.synthetic import layout, reader
from settlement_research.sources.synthetic.generator import generate
from settlement_research.sources.synthetic.writer import write_register


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    write_register(tmp_path / "a", scale=0.02, seed=3)
    write_register(tmp_path / "b", scale=0.02, seed=3)
    a, b = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert set(a) == set(layout.FILES) | {"PROVENANCE.json", "ground_truth.json"}
    assert a == b


def test_different_seeds_differ(tmp_path: Path) -> None:
    write_register(tmp_path / "a", scale=0.02, seed=3)
    write_register(tmp_path / "b", scale=0.02, seed=4)
    a, b = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert a["register_person.csv"] != b["register_person.csv"]
    assert a["register_boforhold.csv"] != b["register_boforhold.csv"]


def test_provenance_lists_every_file_with_its_checksum(small_extract: Path) -> None:
    prov = json.loads((small_extract / "PROVENANCE.json").read_text("utf-8"))
    assert prov["source"] == "synthetic" and prov["seed"] == 11 and prov["scale"] == 0.05
    assert prov["generator_version"]
    for f in prov["files"]:
        path = small_extract / f["name"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == f["sha256"]
        assert path.stat().st_size == f["bytes"]


def test_files_look_like_a_register_extract(small_extract: Path) -> None:
    for name, (_table, cols) in layout.FILES.items():
        header = (small_extract / name).read_text("utf-8").splitlines()[0]
        assert header == ";".join(cols), name
        assert all(c == c.upper() for c in cols)
    lines = (small_extract / "register_bosetting.csv").read_text("utf-8").splitlines()
    date = lines[1].split(";")[1]
    assert len(date) == 8 and date.isdigit()  # YYYYMMDD
    assert "," in lines[1].split(";")[4]  # decimal comma
    kostra = (small_extract / "kostra_bolig.csv").read_text("utf-8")
    assert ";..;" in kostra  # missing cells carry a status symbol, never 0


def test_every_table_from_read_passes_its_model(small_extract: Path) -> None:
    tables = reader.read(small_extract)
    expected = set(PERSON_TABLES) | {
        "kommune", "kommune_settlement_year", "kommune_housing_year", "kommune_context_year",
        "national_settlement_year",
    }
    assert set(tables) == expected
    for name, lf in tables.items():
        assert isinstance(lf, pl.LazyFrame)
        df = lf.collect()
        assert df.height > 0, name
        assert df.columns == list(TABLES[name].to_schema().columns), name
        get_model(name).validate(df, lazy=True)


def test_symbols_become_null_with_a_symbol_column(small_extract: Path) -> None:
    housing = reader.read(small_extract)["kommune_housing_year"].collect()
    flagged = housing.filter(pl.col("municipal_dwellings_per_1000_symbol").is_not_null())
    assert flagged.height > 0
    assert flagged["municipal_dwellings_per_1000"].null_count() == flagged.height
    ksy = reader.read(small_extract)["kommune_settlement_year"].collect()
    no_dec = ksy.filter(pl.col("decision_status") == "no_decision")
    assert no_dec.height > 0 and no_dec["decided"].null_count() == no_dec.height
    assert (no_dec["decided_symbol"] == ".").all()


def test_reader_round_trips_the_generated_person_tables(tmp_path: Path) -> None:
    synth = generate(scale=0.03, seed=8)
    write_register(tmp_path, scale=0.03, seed=8)
    tables = reader.read(tmp_path)
    for name in ("person", "household", "household_member", "settlement", "housing_spell", "intro_spell",
                 "outcome_year", "kommune"):
        got = tables[name].collect()
        want = synth.tables[name].select(got.columns).cast(dict(got.schema))
        assert got.equals(want), name


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    write_register(tmp_path, scale=0.02, seed=1)
    (tmp_path / "register_person.csv").unlink()
    with pytest.raises(FileNotFoundError, match="register_person.csv"):
        reader.read(tmp_path)


def test_cli_writes_to_the_raw_data_folder_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SETTLEMENT_RESEARCH_RAW", str(tmp_path))
    assert main(["synth", "--scale", "0.02", "--seed", "5"]) == 0
    prov = json.loads((tmp_path / "synthetic" / "PROVENANCE.json").read_text("utf-8"))
    assert prov["seed"] == 5
    assert main(["synth", "--scale", "0", "--out", str(tmp_path / "x")]) == 2


def test_custom_municipality_frame(tmp_path: Path) -> None:
    frame = tmp_path / "kommuner.csv"
    frame.write_text(
        "kommune_nr;kommune_name;fylke_nr;population\n"
        "0301;Oslo;03;650000\n1201;Bergen;12;270000\n0501;Lillehammer;05;27000\n"
        "1505;Kristiansund;15;24000\n2004;Hammerfest;20;10000\n1037;Kvinesdal;10;6000\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["synth", "--scale", "0.02", "--municipalities", str(frame), "--out", str(out)]) == 0
    tables = {k: v.collect() for k, v in reader.read(out).items()}
    kommune = tables["kommune"]
    assert sorted(kommune["kommune_nr"]) == ["0301", "0501", "1037", "1201", "1505", "2004"]
    assert dict(zip(kommune["kommune_nr"], kommune["husbanken_region"], strict=True))["2004"] == "hammerfest"
    assert set(tables["settlement"]["kommune_nr"]) <= set(kommune["kommune_nr"])
    assert tables["kommune_settlement_year"].height == 6 * 6
    for name, df in tables.items():
        get_model(name).validate(df, lazy=True)


def test_three_digit_codes_are_refused_not_padded(tmp_path: Path) -> None:
    frame = tmp_path / "kommuner.csv"
    frame.write_text("kommune_nr,kommune_name,fylke_nr,population\n301,Oslo,03,650000\n", encoding="utf-8")
    assert main(["synth", "--scale", "0.02", "--municipalities", str(frame), "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o" / "PROVENANCE.json").exists()
