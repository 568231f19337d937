"""The build on the real synthetic source (tiny scale): every output loads through the catalog."""

from __future__ import annotations

import importlib
from pathlib import Path

import polars as pl
import pytest

from settlement_research.build import build
from settlement_research.derive import SETTLED_ROUTES


@pytest.mark.slow
def test_build_of_a_small_synthetic_register(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synthetic = importlib.import_module("settlement_research.sources.synthetic")
    if not hasattr(synthetic, "read"):
        pytest.skip("settlement_research.sources.synthetic does not expose read() yet")
    from settlement_research.sources.synthetic.writer import write_register

    raw, out = tmp_path / "raw", tmp_path / "clean"
    write_register(raw / "synthetic", scale=0.02, seed=5)
    reports = build(raw, out, log=lambda m: None)
    assert reports[0].status == "built"
    monkeypatch.setenv("SETTLEMENT_RESEARCH_CLEAN", str(out))
    from settlement_research import catalog

    loaded = {t: catalog.load(t, "synthetic") for t in catalog.tables("synthetic")}
    assert {"person", "settlement", "kommune_settlement_year", "kommune_intro_year"} <= set(loaded)
    through_imdi = loaded["settlement"].filter(pl.col("route").is_in(list(SETTLED_ROUTES))).height
    assert loaded["kommune_settlement_year"]["settled"].sum() == through_imdi
    assert (out / "synthetic" / "ground_truth.json").is_file()
