"""A build killed mid-write leaves the previous data_clean and its MANIFEST.json intact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import build_toysource as toy
import polars as pl
from build_toysource import make_tables, write_raw

from settlement_research.build import FIRST_TABLE_MARKER, PAUSE_ENV, build
from settlement_research.io import sha256_file

HERE = Path(__file__).resolve().parent


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha256_file(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def test_killed_build_keeps_the_previous_version(tmp_path: Path) -> None:
    raw, out = tmp_path / "raw", tmp_path / "clean"
    write_raw(raw)
    build(raw, out, sources={"toy": toy}, check_relations=lambda f: [], log=lambda m: None)
    before = _files(out / "toy")
    manifest_before = (out / "MANIFEST.json").read_text()

    write_raw(raw, make_tables(n_persons=60))  # new input, so the next build really rebuilds
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(HERE)!r})
        import build_toysource as toy
        from settlement_research.build import build
        build({str(raw)!r}, {str(out)!r}, sources={{"toy": toy}}, check_relations=lambda f: [])
    """)
    env = {**os.environ, PAUSE_ENV: "120"}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        lines = []
        while (line := proc.stdout.readline()) and FIRST_TABLE_MARKER not in line:
            lines.append(line)
        assert FIRST_TABLE_MARKER in line, f"build ended before the hook: {lines}"
        staging = list(out.glob(".staging-toy-*"))
        assert len(staging) == 1 and list(staging[0].glob("*.parquet"))  # mid-write
    finally:
        proc.kill()
        proc.wait(timeout=30)

    assert _files(out / "toy") == before
    assert (out / "MANIFEST.json").read_text() == manifest_before
    entry = json.loads(manifest_before)["sources"]["toy"]
    for item in entry["outputs"] + entry["sidecars"]:
        assert sha256_file(out / item["path"]) == item["sha256"]
    assert pl.read_parquet(out / "toy" / "person.parquet").height == 120

    # the next build cleans up the dead staging folder and swaps in the new version
    reports = build(raw, out, sources={"toy": toy}, check_relations=lambda f: [], log=lambda m: None)
    assert reports[0].status == "built"
    assert not list(out.glob(".staging-*")) and not list(out.glob(".old-*"))
    assert pl.read_parquet(out / "toy" / "person.parquet").height == 60
