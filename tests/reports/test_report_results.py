"""save_results: where it writes, what it writes, and the per-worker memo."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from settlement_research.reports import results


def test_save_results_writes_where_the_runner_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(results.RESULTS_ENV, raising=False)
    assert results.save_results({"a": 1}) is None
    assert not list(tmp_path.iterdir())  # interactive use leaves no file
    target = tmp_path / "x.results.json"
    monkeypatch.setenv(results.RESULTS_ENV, str(target))
    results.save_results({
        "kommune_nr": "0301", "n": np.int64(12), "share": float("nan"), "mean": np.float32(0.5),
        "when": dt.date(2014, 11, 1), "years": pl.Series([2012, 2013]), "settled": None,
    }, sdc_keys=["settled"])
    data = json.loads(target.read_text())
    block = data.pop("provenance")  # every results.json says what made it
    assert set(block) >= {"git_commit", "git_dirty", "data_manifest_sha256", "seed", "parameters", "versions"}
    assert data == {"kommune_nr": "0301", "n": 12, "share": None, "mean": 0.5, "when": "2014-11-01",
                    "years": [2012, 2013], "settled": None, "_sdc": ["settled"]}
    explicit = tmp_path / "other.json"
    results.save_results({"b": math.pi}, path=explicit)
    written = json.loads(explicit.read_text())
    assert written.pop("provenance")["versions"]["polars"] == pl.__version__
    assert written == {"b": math.pi}
    with pytest.raises(KeyError):
        results.save_results({"a": 1}, sdc_keys=["missing"])


def test_memo_computes_once_per_data_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SETTLEMENT_RESEARCH_CLEAN", str(tmp_path))
    results.clear_memo()
    calls: list[int] = []
    (tmp_path / "MANIFEST.json").write_text("{}")
    assert results.memo("k", lambda: calls.append(1) or len(calls)) == 1
    assert results.memo("k", lambda: calls.append(1) or len(calls)) == 1
    (tmp_path / "MANIFEST.json").write_text('{"rebuilt": true}')
    assert results.memo("k", lambda: calls.append(1) or len(calls)) == 2
    results.clear_memo()
