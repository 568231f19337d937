"""Notebook 02 on a small synthetic register recovers the injected effect; the naive slope does not.

This is the package's end-to-end check that the analysis is honest: data generated with a known
effect, built and validated like real data, analysed by the notebook a researcher would run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from settlement_research.build import build
from settlement_research.sources.synthetic.writer import write_register


@pytest.fixture(scope="module")
def small_register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("recovery")
    # The demo's own register (scale 1, seed 2014): a fixed-seed test of a 95 % interval can miss in
    # about 1 run in 20 for any seed; benchmarks/coverage.py measures the coverage over hundreds of
    # seeds (about 94-95 %), so this test checks the data a newcomer actually sees, not a lucky seed.
    write_register(root / "raw" / "synthetic", scale=1.0, seed=2014)
    build(root / "raw", root / "clean", log=lambda m: None)
    return root / "clean"


@pytest.mark.slow
def test_notebook_02_interval_covers_the_injected_effect(
    small_register: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SETTLEMENT_RESEARCH_CLEAN", str(small_register))
    from settlement_research.reports.runner import run_notebook

    outcome = run_notebook("02_housing_stability_and_outcomes", {"source": "synthetic"}, tmp_path)
    assert outcome.status == "ok", outcome.error
    results = outcome.results
    primary, naive = results["primary_effect"], results["naive_effect"]
    truth = primary["truth"]
    assert truth is not None and truth < 0
    assert primary["ci_low"] <= truth <= primary["ci_high"], primary
    # The unadjusted comparison is confounded by age, education and household type: its interval
    # excludes the truth and it overstates the harm of moving.
    assert not (naive["ci_low"] <= truth <= naive["ci_high"]), naive
    assert naive["estimate"] < truth
    tenure = results["tenure_owner_startlan_effect"]
    assert tenure["ci_low"] <= tenure["truth"] <= tenure["ci_high"], tenure
    html = (tmp_path / "02_housing_stability_and_outcomes.html").read_text("utf-8")
    assert "SYNTHETIC" in html or "synthetic" in html
    assert "Caveats" in html and "Reverse causation" in html
