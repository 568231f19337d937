"""The model wrappers recover known coefficients, drop nulls explicitly and cluster by municipality."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from settlement_research.analysis import models


@pytest.fixture(scope="module")
def panel() -> pl.DataFrame:
    rng = np.random.default_rng(7)
    n, k = 4000, 60
    kommune = rng.integers(0, k, n)
    effect = rng.normal(0, 0.5, k)[kommune]
    x = rng.normal(size=n)
    z = rng.normal(size=n)
    y = 1.0 + 0.5 * x - 0.3 * z + effect + rng.normal(size=n)
    p = 1 / (1 + np.exp(-(-0.2 + 0.8 * x + 0.3 * z)))
    return pl.DataFrame({
        "kommune_nr": [f"{1000 + i:04d}" for i in kommune], "year": rng.integers(2010, 2015, n),
        "x": x, "z": z, "y": y, "b": (rng.random(n) < p).astype(int),
        "t": rng.exponential(5, n) + 0.1, "e": (rng.random(n) < 0.8).astype(int),
    })


def test_feols_recovers_coefficient_with_fixed_effects(panel: pl.DataFrame) -> None:
    res = models.feols(panel, "y ~ x + z | kommune_nr + year", confounders=["z"])
    x = res.term("x")
    assert x["ci_low"] < 0.5 < x["ci_high"]
    assert res.n_clusters == 60 and res.cluster == "kommune_nr"
    assert res.confounders == ["z"]


def test_nulls_are_dropped_explicitly_and_counted(panel: pl.DataFrame) -> None:
    holes = panel.with_columns(pl.when(pl.int_range(pl.len()) < 100).then(None).otherwise(pl.col("x")).alias("x"))
    res = models.feols(holes, "y ~ x + z | kommune_nr")
    assert res.n_dropped == 100
    assert res.n_obs == panel.height - 100


def test_logit_ame_on_probability_scale(panel: pl.DataFrame) -> None:
    res = models.logit_ame(panel, "b ~ x + z")
    x = res.term("x")
    # AME of a logit with coefficient 0.8 near p≈0.45 is about 0.8 * p(1-p) ≈ 0.18.
    assert 0.12 < x["estimate"] < 0.24
    assert x["ci_low"] < x["estimate"] < x["ci_high"]


def test_mixedlm_gee_and_phreg_run_and_return_tidy_tables(panel: pl.DataFrame) -> None:
    m = models.mixedlm(panel, "y ~ x + z")
    assert m.term("x")["ci_low"] < 0.5 < m.term("x")["ci_high"]
    g = models.gee(panel, "b ~ x + z", family="binomial")
    assert g.term("x")["estimate"] == pytest.approx(0.8, abs=0.2)
    c = models.phreg(panel, "t ~ x", duration="t", event="e")
    assert set(models.TIDY_COLUMNS) <= set(c.table.columns)
    assert "hazard_ratio" in c.table.columns


def test_compare_builds_a_robustness_table(panel: pl.DataFrame) -> None:
    table = models.compare(
        {"fe": models.feols(panel, "y ~ x + z | kommune_nr"), "pooled": models.feols(panel, "y ~ x")}, "x"
    )
    assert table["specification"].to_list() == ["fe", "pooled"]


def test_lazyframes_are_collected(panel: pl.DataFrame) -> None:
    assert models.feols(panel.lazy(), "y ~ x | kommune_nr").n_obs == panel.height


def test_collapse_rare_merges_then_drops_what_is_still_too_small() -> None:
    frame = pl.DataFrame({"t": ["a"] * 60 + ["b"] * 30 + ["c"] * 25 + ["d"] * 3})
    merged = models.collapse_rare(frame, "t", min_count=50)
    assert merged["t"].value_counts().sort("t").rows() == [("a", 60), ("other (rare)", 58)]
    tiny = pl.DataFrame({"t": ["a"] * 60 + ["d"] * 3})
    assert models.collapse_rare(tiny, "t", min_count=50).height == 60


def test_logit_category_contrasts_set_the_whole_category() -> None:
    rng = np.random.default_rng(3)
    n = 6000
    cat = rng.choice(["a_ref", "b", "c"], n, p=[0.5, 0.3, 0.2])
    lo = {"a_ref": 0.0, "b": 1.5, "c": -1.0}
    x = rng.normal(size=n)
    eta = -0.2 + 0.5 * x + np.array([lo[c] for c in cat])
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    frame = pl.DataFrame({"y": y, "x": x, "cat": cat, "kommune_nr": [f"{i % 50:04d}" for i in range(n)]})
    res = models.logit_ame(frame, "y ~ x + C(cat)")

    def p(e: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-e))

    base = -0.2 + 0.5 * x
    for level in ("b", "c"):
        truth = float(np.mean(p(base + lo[level]) - p(base)))
        row = res.term(f"C(cat)[T.{level}]")
        assert row["ci_low"] < truth < row["ci_high"], (level, row, truth)
        assert row["std_error"] > 0
    assert "x" in res.table["term"].to_list()


def test_fast_category_contrast_equals_the_counterfactual_design() -> None:
    import patsy
    from scipy.special import expit

    rng = np.random.default_rng(5)
    n = 3000
    frame = pl.DataFrame({
        "cat": rng.choice(["a", "b", "c"], n), "x": rng.normal(size=n),
        "kommune_nr": [f"{i % 30:04d}" for i in range(n)],
    }).with_columns(pl.Series("y", (rng.random(n) < 0.4).astype(int)))
    for formula in ("y ~ x + C(cat)", "y ~ x * C(cat)"):  # main effect (fast path) and interaction (patsy)
        res = models.logit_ame(frame, formula)
        pdf = frame.to_pandas()
        info = res.fit.model.data.model_spec
        beta = np.asarray(res.fit.params)

        def prob(level: str, pdf=pdf, info=info, beta=beta) -> np.ndarray:
            return expit(np.asarray(patsy.build_design_matrices([info], pdf.assign(cat=level))[0]) @ beta)

        expected = float(np.mean(prob("c") - prob("a")))
        assert res.term("C(cat)[T.c]")["estimate"] == pytest.approx(expected, rel=1e-9), formula
