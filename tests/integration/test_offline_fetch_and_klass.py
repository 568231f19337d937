"""Offline behaviour on a machine with no cache, and the build beside a data_raw/klass folder.

``fetch --offline`` with an empty cache must stop at the first request, before any network use,
with a message naming the missing response and what to run; the build must skip data_raw/klass
(reference data for harmonisation, not a table source) and still build the other sources.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import requests

from settlement_research.build import read_manifest
from settlement_research.cli import main
from settlement_research.sources.http import write_folder_provenance

FLAT = (
    '"aar","fylke_nr","bosetting","enhet","tabellvariabel","tabell_navn","kommune_nr","naringsregion_nr","bydel_nr"\n'
    '"2014","00","bosatt","personer","60","bosatt_anmodede","NULL","NULL","NULL"\n'
    '"2014","NULL","anmodning","personer","35","bosatt_anmodede","0101","NULL","NULL"\n'
    '"2014","NULL","vedtak","personer","30","bosatt_anmodede","0101","NULL","NULL"\n'
    '"2014","NULL","bosatt","personer","22","bosatt_anmodede","0101","NULL","NULL"\n'
    '"2014","NULL","anmodning","personer","50","bosatt_anmodede","1756","NULL","NULL"\n'
    '"2014","NULL","vedtak","personer",".","bosatt_anmodede","1756","NULL","NULL"\n'
    '"2014","NULL","bosatt","personer","38","bosatt_anmodede","1756","NULL","NULL"\n'
)


@pytest.fixture()
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Any attempt to use the network is recorded and fails."""
    attempts: list[str] = []

    def refuse(self: requests.Session, request: requests.PreparedRequest, **_: object) -> None:
        attempts.append(str(request.url))
        raise requests.ConnectionError("network disabled in tests")

    monkeypatch.setattr(requests.Session, "send", refuse)
    return attempts


def test_offline_fetch_without_cache_fails_at_once(
    tmp_path: Path, no_network: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "raw"
    assert main(["fetch", "--offline", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "offline and not cached" in err and "data.ssb.no" in err
    assert "run `settlement-research fetch` with network first" in err
    assert no_network == []  # never tried the network
    assert not out.exists() or not list(out.rglob("PROVENANCE.json"))  # nothing a build could take for a source
    # a build of that folder then says plainly that there is nothing to build
    assert main(["build", "--raw", str(out), "--out", str(tmp_path / "clean")]) == 1
    err = capsys.readouterr().err
    assert "build failed: no raw data folder" in err or "no source folders" in err


def test_build_skips_the_klass_folder_and_builds_the_rest(
    tmp_path: Path, no_network: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    raw, clean = tmp_path / "raw", tmp_path / "clean"
    flat = tmp_path / "bosatt_anmodede.csv"
    flat.write_text(FLAT, encoding="utf-8")
    assert main(["import-imdi", str(flat), "--out", str(raw / "imdi"), "--allow-partial"]) == 0
    klass = raw / "klass"
    klass.mkdir(parents=True)
    (klass / "131_changes-0000.json").write_text(json.dumps({"codeChanges": []}), encoding="utf-8")
    write_folder_provenance(klass, "klass", api="https://data.ssb.no/api/klass/v1")
    capsys.readouterr()
    assert main(["build", "--raw", str(raw), "--out", str(clean)]) == 0
    printed = capsys.readouterr().out
    assert "klass" in printed and "reference data, not a table source; skipped" in printed
    assert set(read_manifest(clean)["sources"]) == {"imdi"}
    assert not (clean / "klass").exists()
    s = pl.read_parquet(clean / "imdi" / "kommune_settlement_year.parquet")
    assert sorted(s["kommune_nr"]) == ["0101", "1756"]
    kommune = pl.read_parquet(clean / "imdi" / "kommune.parquet")
    assert kommune.height == 428  # the whole 2014 classification, from the shipped code list
    assert no_network == []
