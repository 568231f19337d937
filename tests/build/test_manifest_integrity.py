"""The manifest is part of the data: verify, load() checks, inputs changed mid-build, crashes at every step."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import build_toysource as toy
import polars as pl
import pytest
from build_toysource import make_tables, write_raw

import settlement_research.build as build_mod
from settlement_research import catalog
from settlement_research.build import FAULT_ENV, FAULT_EXIT, BuildError, build
from settlement_research.cli import main
from settlement_research.io import sha256_file
from settlement_research.pipeline.manifest import MANIFEST, ManifestMismatch, read_sources, verify

HERE = Path(__file__).resolve().parent
STEPS = ["snapshot", "built", "manifest_staged", "staged", "index_removed", "swapped:toy", "index_written"]


def run(raw: Path, out: Path, **kwargs):
    return build(raw, out, sources={"toy": toy}, check_relations=lambda f: [], log=lambda m: None, **kwargs)


def files(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): sha256_file(p)
        for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".build.lock"
    }


@pytest.fixture()
def built(tmp_path: Path) -> tuple[Path, Path]:
    raw, out = tmp_path / "raw", tmp_path / "clean"
    write_raw(raw, checksums=False)
    run(raw, out)
    return raw, out


def test_manifest_is_inside_the_source_folder_and_the_index_matches(built) -> None:
    _raw, out = built
    per_source = json.loads((out / "toy" / MANIFEST).read_text())
    index = json.loads((out / MANIFEST).read_text())
    assert per_source["sources"] == index["sources"]
    entry = per_source["sources"]["toy"]
    assert entry["code_hash"] and all("mtime_ns" in f for f in entry["outputs"])
    assert verify(out).ok


def test_verify_passes_after_build_and_lists_tampered_and_stray_files(built, capsys) -> None:
    _raw, out = built
    assert main(["verify", str(out)]) == 0
    assert "ok: " in capsys.readouterr().out
    with open(out / "toy" / "person.parquet", "ab") as fh:
        fh.write(b"x")
    (out / "toy" / "extra.parquet").write_bytes(b"stray")
    assert main(["verify", str(out)]) == 1
    text = capsys.readouterr().out
    assert "toy/person.parquet: size" in text and "toy/extra.parquet: not listed" in text
    assert main(["verify", str(out.parent / "nowhere")]) == 2
    empty = out.parent / "empty_clean"
    empty.mkdir()
    assert main(["verify", str(empty)]) == 2  # nothing built: unusable input, not a mismatch
    assert "nothing built here to verify" in capsys.readouterr().err


def test_verify_full_finds_a_same_size_edit_that_quick_mode_misses(built) -> None:
    _raw, out = built
    target = out / "toy" / "kommune.parquet"
    stat = target.stat()
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # a tamperer who restores the mtime
    assert verify(out, full=False).ok  # the cheap check cannot see it ...
    assert [rel for rel, _ in verify(out).problems] == ["toy/kommune.parquet"]  # ... the full one does


def test_load_refuses_a_table_that_disagrees_with_the_manifest(built, monkeypatch) -> None:
    _raw, out = built
    monkeypatch.setenv("SETTLEMENT_RESEARCH_CLEAN", str(out))
    assert catalog.load("kommune", source="toy").height == 4
    target = out / "toy" / "kommune.parquet"
    stat = target.stat()
    good = target.read_bytes()
    data = bytearray(good)
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))  # same size, new mtime: the cheap check hashes and refuses
    with pytest.raises(ManifestMismatch, match="sha256 differs"):
        catalog.load("kommune", source="toy")
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(ManifestMismatch, match="sha256 differs"):
        catalog.load("kommune", source="toy", checksum=True)  # full check on request
    target.write_bytes(good + b"tail")
    with pytest.raises(ManifestMismatch, match="size"):
        catalog.load("kommune", source="toy")
    target.write_bytes(good)
    assert catalog.load("kommune", source="toy", checksum=True).height == 4


def _rename_oslo(raw: Path, value: int) -> None:
    """Rename Oslo to 'Oslo <value>' in the raw kommune.csv (an edit no rule objects to)."""
    path = raw / "toy" / "kommune.csv"
    frame = pl.read_csv(path, infer_schema=False)
    frame.with_columns(
        pl.when(pl.col("kommune_nr") == "0301").then(pl.lit(f"Oslo {value}")).otherwise(pl.col("kommune_name"))
        .alias("kommune_name")
    ).write_csv(path)


def test_raw_file_edited_during_the_build_is_built_again_from_the_new_bytes(built, monkeypatch) -> None:
    raw, out = built
    _rename_oslo(raw, 33)
    edits = iter([34])

    def hook(step: str) -> None:
        if step == "built":
            value = next(edits, None)
            if value is not None:
                _rename_oslo(raw, value)  # someone edits data_raw while the build runs

    monkeypatch.setattr(build_mod, "FAULT_HOOK", hook)
    messages: list[str] = []
    build(raw, out, sources={"toy": toy}, check_relations=lambda f: [], log=messages.append)
    assert any("changed during the build" in m for m in messages)
    entry = read_sources(out)["toy"]
    by_path = {i["path"]: i["sha256"] for i in entry["inputs"]}
    assert by_path["toy/kommune.csv"] == sha256_file(raw / "toy" / "kommune.csv")
    clean = pl.read_parquet(out / "toy" / "kommune.parquet")
    assert "Oslo 34" in clean["kommune_name"].to_list()
    assert verify(out).ok


def test_raw_file_that_keeps_changing_fails_and_leaves_data_clean(built, monkeypatch) -> None:
    raw, out = built
    before = files(out)
    counter = iter(range(40, 99))
    _rename_oslo(raw, 39)

    def hook(step: str) -> None:
        if step == "built":
            _rename_oslo(raw, next(counter))

    monkeypatch.setattr(build_mod, "FAULT_HOOK", hook)
    with pytest.raises(BuildError, match="kept changing during the build.*data_clean was not changed"):
        run(raw, out)
    assert files(out) == before
    assert not list(out.glob(".staging-*")) and not list(out.glob(".input-*"))


def _state(out: Path) -> int:
    """Consistency after a crash: every file matches its folder's manifest, the index is absent or
    right, and the data is one whole version (returns its person count)."""
    result = verify(out)
    assert result.ok, result.problems
    persons = pl.read_parquet(out / "toy" / "person.parquet").height
    rows = {o["table"]: o["rows"] for o in read_sources(out)["toy"]["outputs"]}
    assert rows["person"] == persons
    return persons


@pytest.mark.parametrize("step", STEPS)
def test_a_build_dying_at_any_step_leaves_data_and_manifest_consistent(tmp_path: Path, step: str) -> None:
    raw, out = tmp_path / "raw", tmp_path / "clean"
    write_raw(raw)
    run(raw, out)
    old = files(out / "toy")
    write_raw(raw, make_tables(n_persons=60))
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(HERE)!r})
        import build_toysource as toy
        from settlement_research.build import build
        build({str(raw)!r}, {str(out)!r}, sources={{"toy": toy}}, check_relations=lambda f: [])
    """)
    proc = subprocess.run([sys.executable, "-c", script], env={**os.environ, FAULT_ENV: step},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == FAULT_EXIT, proc.stderr
    persons = _state(out)
    swapped = step in ("swapped:toy", "index_written")
    assert persons == (60 if swapped else 120)
    if not swapped:
        assert files(out / "toy") == old
    # the next build cleans up and ends with the new version and a complete index
    run(raw, out)
    assert _state(out) == 60 and (out / MANIFEST).is_file()
    assert not list(out.glob(".staging-*")) and not list(out.glob(".input-*")) and not list(out.glob(".old-*"))
