"""benchmarks/coverage.py on two small registers: every estimator's row, the unconditional-SE variant
and the oracle coverage (estimate +- 1.96 x the exact conditional SD) are what they claim."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "coverage.py"


@pytest.fixture(scope="module")
def bench():  # noqa: ANN201 (a module)
    spec = importlib.util.spec_from_file_location("coverage_benchmark", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["coverage_benchmark"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_two_seeds_give_every_estimator_and_the_diagnostics(bench) -> None:  # noqa: ANN001
    rows = [bench.one_seed(seed, 0.15, estimators=("logit", "arrival")) for seed in (1, 2)]
    for row in rows:
        assert set(row["fits"]) == {"logit", "logit_uncond", "logit_hc1", "logit_cr3", "arrival", "arrival_uncond"}
        for base, variant in (("logit", "logit_uncond"), ("arrival", "arrival_uncond")):
            for estimand, fit in row["fits"][base].items():
                other = row["fits"][variant][estimand]
                assert other["estimate"] == fit["estimate"]
                assert row["truth"][variant] == row["truth"][base]
                # the covariate part of the AME's variance is small next to the coefficient part here
                assert other["std_error"] == pytest.approx(fit["std_error"], rel=0.05)
                assert other["ci_high"] - other["ci_low"] == pytest.approx(2 * 1.959964 * other["std_error"], rel=1e-5)
    summary = {(s["estimator"], s["estimand"]): s for s in bench.summarise(rows)}
    s = summary[("logit", "moves")]
    by_hand = sum(abs(r["fits"]["logit"]["moves"]["estimate"] - r["truth"]["logit"]["moves"])
                  <= 1.959964 * r["conditional_sd"]["logit"]["moves"] for r in rows) / 2
    assert s["coverage_with_conditional_sd"] == by_hand
    assert s["seeds"] == 2 and ("arrival_uncond", "arrival_dwellings") in summary
