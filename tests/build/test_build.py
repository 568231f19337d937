"""build.py end to end on the hand-made toy source: manifest, up-to-date, quarantine, bad input."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import build_toysource as toy
import polars as pl
import pytest
from build_toysource import make_tables, write_raw

import settlement_research
import settlement_research.build as build_mod
from settlement_research.build import BuildError, build
from settlement_research.io import sha256_file
from settlement_research.problems import Problem
from settlement_research.validation import validate


def run(raw: Path, out: Path, **kwargs):
    """Build the toy source (with the real relations.check_relations unless one is given)."""
    return build(raw, out, sources={"toy": toy}, log=lambda msg: None, **kwargs)


def tree(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` with its sha256 (to prove a failed build changed nothing)."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".build.lock"
    }


@pytest.fixture()
def built(tmp_path: Path) -> tuple[Path, Path]:
    raw, out = tmp_path / "raw", tmp_path / "clean"
    write_raw(raw)
    run(raw, out)
    return raw, out


def test_second_build_rebuilds_nothing_and_force_rebuilds(built: tuple[Path, Path]) -> None:
    raw, out = built
    before = tree(out)
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "toy").glob("*.parquet")}
    messages: list[str] = []
    reports = build(raw, out, sources={"toy": toy}, check_relations=lambda f: [], log=messages.append)
    assert [r.status for r in reports] == ["up_to_date"]
    assert any("up to date" in m for m in messages)
    assert tree(out) == before
    assert {p: p.stat().st_mtime_ns for p in (out / "toy").glob("*.parquet")} == mtimes
    assert [r.status for r in run(raw, out, force=True)] == ["built"]


def test_changed_input_or_damaged_output_triggers_a_rebuild(built: tuple[Path, Path]) -> None:
    raw, out = built
    (out / "toy" / "person.parquet").write_bytes(b"damaged")
    assert [r.status for r in run(raw, out)] == ["built"]
    assert pl.read_parquet(out / "toy" / "person.parquet").height == 120
    tables = make_tables(n_persons=60)
    write_raw(raw, tables)
    assert [r.status for r in run(raw, out)] == ["built"]
    assert pl.read_parquet(out / "toy" / "person.parquet").height == 60


def test_outputs_pass_the_models_and_carry_derived_columns(built: tuple[Path, Path]) -> None:
    _, out = built
    for path in sorted((out / "toy").glob("*.parquet")):
        result = validate(pl.read_parquet(path), path.stem)
        assert result.valid, (path.stem, [p.message for p in result.errors])
    sky = pl.read_parquet(out / "toy" / "kommune_settlement_year.parquet")
    settlement = make_tables()["settlement"]
    through_imdi = settlement.filter(pl.col("route") != "own").height
    assert sky["settled"].sum() == through_imdi
    assert sky["requested"].null_count() < sky.height  # the source's own columns survive the merge
    intro = pl.read_parquet(out / "toy" / "kommune_intro_year.parquet")
    assert intro["participants"].sum() > 0 and set(intro["window_years"].to_list()) == {1}
    housing = pl.read_parquet(out / "toy" / "kommune_housing_year.parquet")
    assert housing["refugees_housed"].max() > 0
    # JSON sidecars travel with the data so catalog.load_json finds them
    assert json.loads((out / "toy" / "ground_truth.json").read_text())["persons"] == 120


def test_manifest_records_inputs_outputs_versions_and_parameters(built: tuple[Path, Path]) -> None:
    raw, out = built
    manifest = json.loads((out / "MANIFEST.json").read_text())
    entry = manifest["sources"]["toy"]
    assert entry["schema_version"] == settlement_research.SCHEMA_VERSION
    assert entry["package_version"] == settlement_research.__version__
    assert entry["parameters"] == {"max_quarantine_share": 0.01, "force": False}
    assert entry["built_at"]
    inputs = {i["path"]: i for i in entry["inputs"]}
    assert set(inputs) == {f"toy/{p.name}" for p in (raw / "toy").iterdir()}
    for path, item in inputs.items():
        assert item["sha256"] == sha256_file(raw / path)
        assert item["size"] == (raw / path).stat().st_size
    outputs = {o["table"]: o for o in entry["outputs"]}
    assert set(outputs) == {p.stem for p in (out / "toy").glob("*.parquet")}
    for table, item in outputs.items():
        assert item["path"] == f"toy/{table}.parquet"
        assert item["sha256"] == sha256_file(out / item["path"])
        assert item["rows"] == pl.read_parquet(out / item["path"]).height
        assert item["quarantined_rows"] == 0
        assert item["warnings"] == sum(w["table"] == table for w in entry["warnings"])
    assert "settled" in outputs["kommune_settlement_year"]["derived_columns"]
    assert {s["path"] for s in entry["sidecars"]} == {"toy/PROVENANCE.json", "toy/ground_truth.json"}


def _with_bad_rows(n_bad: int) -> dict[str, pl.DataFrame]:
    tables = make_tables()
    person = tables["person"].with_columns(
        sex=pl.when(pl.int_range(pl.len()) < n_bad).then(pl.lit("x")).otherwise(pl.col("sex"))
    )
    return {**tables, "person": person}


def test_invalid_rows_are_quarantined_with_row_nr_and_reason(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "clean"
    write_raw(raw, _with_bad_rows(2))
    reports = run(raw, out, max_quarantine_share=0.05)
    assert reports[0].tables["person"].quarantined == 2
    q = pl.read_parquet(out / "toy" / "quarantine" / "person.parquet")
    assert q["row_nr"].to_list() == [1, 2]  # 1-based, as in every report
    assert q["reason"].str.contains("sex").all()
    assert q["person_id"].to_list() == ["p0000", "p0001"]
    assert pl.read_parquet(out / "toy" / "person.parquet").height == 118
    entry = json.loads((out / "MANIFEST.json").read_text())["sources"]["toy"]
    person = next(o for o in entry["outputs"] if o["table"] == "person")
    assert (person["quarantined_rows"], person["rows"], person["input_rows"]) == (2, 118, 120)
    quarantined = {q["table"]: q["rows"] for q in entry["quarantine"]}
    assert quarantined["person"] == 2
    # their settlements now point at no person: quarantined by the relational check
    settlement = pl.read_parquet(out / "toy" / "quarantine" / "settlement.parquet")
    assert settlement["person_id"].to_list() == ["p0000", "p0001"]
    assert (settlement["stage"] == "relations").all() and quarantined["settlement"] == 2


def test_too_many_quarantined_rows_fail_and_leave_data_clean_alone(built: tuple[Path, Path]) -> None:
    raw, out = built
    before = tree(out)
    write_raw(raw, _with_bad_rows(2))  # 2 of 120 = 1.7 % > 1 %
    with pytest.raises(BuildError, match=r"person: 2 of 120 rows \(1.67%\)"):
        run(raw, out)
    assert tree(out) == before
    assert not list(out.glob(".staging-*"))


def test_relation_errors_are_quarantined_and_warnings_counted(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "clean"
    write_raw(raw)
    seen: list[set[str]] = []

    def relations(frames):
        seen.append(set(frames))
        if "settlement" not in frames:  # second pass: merged aggregates only
            return [Problem(rule="settled_above_decided", message="settled above decided",
                            table="kommune_settlement_year", severity="warning", n_rows=1, rows=[0])]
        return [Problem(rule="orphan", message="person missing from person", table="settlement",
                        column="person_id", n_rows=1, rows=[3])]

    reports = run(raw, out, check_relations=relations, max_quarantine_share=0.05)
    assert "person" in seen[0] and "kommune_settlement_year" in seen[-1]
    q = pl.read_parquet(out / "toy" / "quarantine" / "settlement.parquet")
    assert q["row_nr"].to_list() == [4] and q["stage"].to_list() == ["relations"]
    assert q["person_id"].to_list() == ["p0003"]
    assert "p0003" not in pl.read_parquet(out / "toy" / "settlement.parquet")["person_id"].to_list()
    assert reports[0].tables["kommune_settlement_year"].warnings == 1
    entry = json.loads((out / "MANIFEST.json").read_text())["sources"]["toy"]
    outputs = {o["table"]: o for o in entry["outputs"]}
    assert outputs["settlement"]["quarantined_rows"] == 1
    assert outputs["kommune_settlement_year"]["warnings"] == 1


# ------------------------------------------------------------------------------------------
# bad input: the build stops with a message naming file, column and row; data_clean untouched
# ------------------------------------------------------------------------------------------

def _break_and_build(built: tuple[Path, Path], breaker) -> str:
    raw, out = built
    before = tree(out)
    breaker(raw / "toy")
    with pytest.raises(BuildError) as err:
        run(raw, out, force=True)
    assert tree(out) == before
    assert not list(out.glob(".staging-*"))
    return str(err.value)


def _drop_checksums(folder: Path) -> None:
    prov = json.loads((folder / "PROVENANCE.json").read_text())
    prov["files"] = []
    (folder / "PROVENANCE.json").write_text(json.dumps(prov))


def test_truncated_parquet_names_the_file(built: tuple[Path, Path]) -> None:
    def truncate(folder: Path) -> None:
        data = (folder / "housing_spell.parquet").read_bytes()
        (folder / "housing_spell.parquet").write_bytes(data[: len(data) // 2])
        _drop_checksums(folder)

    message = _break_and_build(built, truncate)
    assert "toy/housing_spell.parquet" in message and "housing_spell" in message


def test_corrupted_file_is_caught_by_its_checksum(built: tuple[Path, Path]) -> None:
    def corrupt(folder: Path) -> None:
        data = bytearray((folder / "person.parquet").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (folder / "person.parquet").write_bytes(bytes(data))

    message = _break_and_build(built, corrupt)
    assert "person.parquet" in message and "sha256" in message


def test_missing_column_names_file_and_column(built: tuple[Path, Path]) -> None:
    def drop_column(folder: Path) -> None:
        path = folder / "kommune_settlement_year.csv"
        pl.read_csv(path, infer_schema=False).drop("kommune_nr").write_csv(path)
        _drop_checksums(folder)

    message = _break_and_build(built, drop_column)
    assert "kommune_settlement_year.csv" in message and "kommune_nr" in message


def test_unreadable_encoding_names_file_line_and_column(built: tuple[Path, Path]) -> None:
    def latin1(folder: Path) -> None:
        path = folder / "kommune.csv"
        text = path.read_text("utf-8").replace("Bergen", "Bærum")
        path.write_bytes(text.encode("latin-1"))
        _drop_checksums(folder)

    message = _break_and_build(built, latin1)
    assert "toy/kommune.csv" in message
    assert "line 3" in message and "column kommune_name" in message


def test_unknown_source_in_provenance_is_an_error(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    folder = write_raw(raw)
    (folder / "PROVENANCE.json").write_text(json.dumps({"source": "nowhere"}))
    with pytest.raises(BuildError, match="unknown source 'nowhere'"):
        run(raw, tmp_path / "clean")


def test_cli_exit_code_and_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    raw, out = tmp_path / "raw", tmp_path / "clean"
    write_raw(raw, _with_bad_rows(5))
    monkeypatch.setattr(build_mod, "SOURCE_MODULES", {"toy": toy})
    monkeypatch.setattr(build_mod, "_relations", lambda *a, **k: [])
    from settlement_research.cli import main

    assert main(["build", "--raw", str(raw), "--out", str(out)]) == 1
    assert "too many rows quarantined" in capsys.readouterr().err
    assert main(["build", "--raw", str(raw), "--out", str(out), "--max-quarantine-share", "0.1"]) == 0
    assert pl.read_parquet(out / "toy" / "person.parquet").height == 115


def test_reference_data_folders_are_skipped(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "clean"
    write_raw(raw)
    (raw / "klass").mkdir()
    (raw / "klass" / "PROVENANCE.json").write_text(json.dumps({"source": "klass", "files": []}))
    (raw / "klass" / "changes.json").write_text("{}")
    reports = build(raw, out, sources={"toy": toy, "klass": None}, log=lambda m: None)
    assert [r.source for r in reports] == ["toy"]
    assert not (out / "klass").exists()
    assert set(json.loads((out / "MANIFEST.json").read_text())["sources"]) == {"toy"}
