"""Cinelli-Hazlett robustness values against the published Darfur example (sensemakr)."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from settlement_research.analysis import sensitivity


def test_darfur_numbers_of_the_paper() -> None:
    # Cinelli & Hazlett (2020), Table 1: t = 4.18, dof = 783 -> R²(Y~D|X) 2.2 %, RV 13.9 %, RV_alpha 7.6 %
    assert sensitivity.partial_r2(4.18, 783) == pytest.approx(0.022, abs=5e-4)
    assert sensitivity.robustness_value(4.18, 783) == pytest.approx(0.139, abs=1e-3)
    assert sensitivity.robustness_value(4.18, 783, alpha=0.05) == pytest.approx(0.076, abs=1e-3)
    assert sensitivity.robustness_value(1.0, 783, alpha=0.05) == 0.0  # already insignificant


def test_a_confounder_as_strong_as_the_rv_removes_the_estimate() -> None:
    rng = np.random.default_rng(3)
    n = 4000
    x = rng.normal(size=n)
    y = 0.1 * x + rng.normal(size=n)
    fit = sm.OLS(y, sm.add_constant(x)).fit()
    est, se, dof = fit.params[1], fit.bse[1], int(fit.df_resid)
    rv = sensitivity.robustness_value(est / se, dof)
    assert sensitivity.bias_bound(se, dof, r2_yz=rv, r2_dz=rv) == pytest.approx(abs(est), rel=1e-6)
    adjusted, lo, hi = sensitivity.adjusted_interval(est, se, dof, r2_yz=rv, r2_dz=rv)
    assert adjusted == pytest.approx(0.0, abs=1e-9) and lo < 0 < hi


def test_evalues_of_the_published_examples() -> None:
    # VanderWeele & Ding (2017), Ann Intern Med (also the EValue package's examples):
    # smoking and lung cancer (Hammond & Horn), RR 10.73 (8.02-14.36): E-value 20.9, CI 15.5
    smoking = sensitivity.evalues_rr(10.73, 8.02, 14.36)
    assert smoking["evalue"] == pytest.approx(20.9, abs=0.05)
    assert smoking["evalue_ci"] == pytest.approx(15.5, abs=0.05)
    # leukaemia (a protective association), RR 0.80 (0.71-0.91): E-value 1.81, CI 1.43
    leuk = sensitivity.evalues_rr(0.80, 0.71, 0.91)
    assert leuk["evalue"] == pytest.approx(1.81, abs=0.005)
    assert leuk["evalue_ci"] == pytest.approx(1.43, abs=0.005)
    # symmetry and the null
    assert sensitivity.evalue_rr(1 / 0.80) == pytest.approx(sensitivity.evalue_rr(0.80))
    assert sensitivity.evalue_rr(1.0) == 1.0
    assert sensitivity.evalues_rr(1.2, 0.9, 1.6)["evalue_ci"] == 1.0
    # a common outcome's odds ratio is read as sqrt(OR)
    assert sensitivity.rr_from_odds_ratio(4.0, common=True) == 2.0
    assert sensitivity.rr_from_odds_ratio(4.0, common=False) == 4.0
    with pytest.raises(ValueError):
        sensitivity.evalue_rr(-1.0)


def test_evalue_of_a_risk_difference_uses_the_risk_ratio_against_the_baseline() -> None:
    # a fall from 50 % to 40 % is RR 0.8: the leukaemia example's E-value
    e = sensitivity.evalues_risk_difference(-0.10, -0.145, -0.045, baseline=0.5)
    assert e["rr"] == pytest.approx(0.8)
    assert e["evalue"] == pytest.approx(sensitivity.evalue_rr(0.8))
    assert e["evalue_ci"] == pytest.approx(sensitivity.evalue_rr(0.91))  # the limit nearer the null
    covering = sensitivity.evalues_risk_difference(0.02, -0.01, 0.05, baseline=0.5)
    assert covering["evalue_ci"] == 1.0 and covering["evalue"] > 1


def test_a_confounder_as_strong_as_the_evalue_explains_the_risk_ratio_away() -> None:
    # Ding & VanderWeele (2016) bounding factor B = RR_EU * RR_UD / (RR_EU + RR_UD - 1): with both
    # associations equal to the E-value the largest bias factor equals the observed risk ratio
    for rr in (1.3, 2.0, 10.73):
        e = sensitivity.evalue_rr(rr)
        assert e * e / (2 * e - 1) == pytest.approx(rr)
        weaker = 0.99 * e
        assert weaker * weaker / (2 * weaker - 1) < rr


def _proportional_selection_world(a: float, b: float, beta: float = 0.5, n: int = 4000) -> tuple[dict, float]:
    """y = beta x + w1 + w2 + e with w1 observed, w2 not, and in-sample orthogonal w1, w2, u, e: the
    unobservable selects on x with delta = (cov(w2, x) / var(w2)) / (cov(w1, x) / var(w1)) = b / a exactly,
    and R_max is the R² of the regression that includes w2 (Oster 2019, Proposition 2 holds exactly)."""
    import numpy as np

    m = np.random.default_rng(4).normal(size=(n, 4))
    q, _ = np.linalg.qr(m - m.mean(axis=0))
    w1, w2, u, e = (q * np.sqrt(n)).T
    x = a * w1 + b * w2 + u
    y = beta * x + w1 + w2 + 1.5 * e

    def ols(target: np.ndarray, cols: list) -> tuple[np.ndarray, float, np.ndarray]:
        design = np.column_stack([np.ones(n), *cols])
        coef = np.linalg.lstsq(design, target, rcond=None)[0]
        r = target - design @ coef
        return coef, 1 - r.var() / target.var(), r

    c_short, r2_short, _ = ols(y, [x])
    c_long, r2_long, _ = ols(y, [x, w1])
    _, r2_full, _ = ols(y, [x, w1, w2])
    _, _, x_resid = ols(x, [w1])
    moments = dict(beta_short=c_short[1], r2_short=r2_short, beta_long=c_long[1], r2_long=r2_long, var_y=y.var(),
                   var_x=x.var(), var_x_resid=x_resid.var())
    return moments, r2_full


@pytest.mark.parametrize(("a", "b"), [(0.7, 0.7), (0.5, 0.9), (0.8, 0.3)])
def test_oster_recovers_the_true_delta_and_beta_of_a_constructed_world(a: float, b: float) -> None:
    moments, r2_full = _proportional_selection_world(a, b)
    out = sensitivity.oster_from_moments(**moments, r_max=r2_full, beta_null=0.5)
    assert out["delta"] == pytest.approx(b / a, rel=1e-9)
    assert out["beta_long"] > 0.5 + 0.1  # the observed control alone leaves a real bias to undo
    if a == b:  # equal selection: beta* for delta = 1 is the true coefficient, picked among two roots
        assert len(out["beta_star_roots"]) == 2
        assert out["beta_star_delta1"] == pytest.approx(0.5, abs=1e-9)


def test_oster_delta_for_zero_and_the_sentence() -> None:
    moments, r2_full = _proportional_selection_world(0.7, 0.7)
    out = sensitivity.oster_from_moments(**moments, r_max=r2_full)
    # delta for beta = 0 exceeds the true delta (1): the true beta is 0.5 > 0, so reaching 0 takes more selection
    assert out["delta"] > 1
    # plugging delta back: at R_max, delta(beta*) = 1 by construction of beta*
    again = sensitivity.oster_from_moments(**moments, r_max=r2_full, beta_null=out["beta_star_delta1"])
    assert again["delta"] == pytest.approx(1.0, rel=1e-9)
    text = sensitivity.oster_sentence("x", {**out, "r_max": r2_full})
    assert f"{out['delta']:.2f}" in text and "Oster 2019" in text
    with pytest.raises(ValueError, match="R_max"):
        sensitivity.oster_from_moments(**moments, r_max=moments["r2_long"] - 0.01)


def test_oster_on_data_uses_the_same_moments_with_fixed_effects() -> None:
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(9)
    n = 3000
    g = rng.integers(0, 30, n)
    w = rng.normal(size=n)
    x = 0.5 * w + rng.normal(0, 1, 30)[g] + rng.normal(size=n)
    y = 0.3 * x + 0.8 * w + rng.normal(0, 1, 30)[g] + rng.normal(size=n)
    frame = pl.DataFrame({"y": y, "x": x, "w": w, "g": [f"g{v:02d}" for v in g]})
    out = sensitivity.oster(frame, "y", "x", controls="w", fixed_effects="g")
    dummies = (g[:, None] == np.arange(30)[None, :]).astype(float)

    def ols(target: np.ndarray, cols: np.ndarray) -> tuple[float, float, np.ndarray]:
        design = np.column_stack([np.ones(n), cols])
        coef = np.linalg.lstsq(design, target, rcond=None)[0]
        r = target - design @ coef
        return coef[1], 1 - r.var() / target.var(), r

    b_short, r2_short, _ = ols(y, x[:, None])
    b_long, r2_long, _ = ols(y, np.column_stack([x, w, dummies[:, 1:]]))
    _, _, x_resid = ols(x, np.column_stack([w, dummies[:, 1:]]))
    expected = sensitivity.oster_from_moments(
        beta_short=b_short, r2_short=r2_short, beta_long=b_long, r2_long=r2_long, var_y=y.var(), var_x=x.var(),
        var_x_resid=x_resid.var(), r_max=1.3 * r2_long)
    assert out["r_max"] == pytest.approx(1.3 * r2_long, rel=1e-9)
    assert out["delta"] == pytest.approx(expected["delta"], rel=1e-7)
    assert out["beta_star_delta1"] == pytest.approx(expected["beta_star_delta1"], rel=1e-7)
    assert out["n"] == n


def test_oster_with_baseline_regressors_in_both_regressions() -> None:
    """psacalc's mcontrols: a baseline kept in the short regression too; the exposure's variance is then
    net of it. Checked against moments computed by hand."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(12)
    n = 2000
    b = rng.normal(size=n)
    w = rng.normal(size=n)
    x = 0.4 * b + 0.6 * w + rng.normal(size=n)
    y = 0.2 * x + 0.5 * b + 0.7 * w + rng.normal(size=n)
    frame = pl.DataFrame({"y": y, "x": x, "b": b, "w": w})
    out = sensitivity.oster(frame, "y", "x", controls="w", baseline="b")

    def ols(target: np.ndarray, *cols: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
        design = np.column_stack([np.ones(n), *cols])
        coef = np.linalg.lstsq(design, target, rcond=None)[0]
        r = target - design @ coef
        return coef, 1 - r.var() / target.var(), r

    c_short, r2_short, _ = ols(y, x, b)
    c_long, r2_long, _ = ols(y, x, b, w)
    expected = sensitivity.oster_from_moments(
        beta_short=c_short[1], r2_short=r2_short, beta_long=c_long[1], r2_long=r2_long, var_y=y.var(),
        var_x=ols(x, b)[2].var(), var_x_resid=ols(x, b, w)[2].var(), r_max=1.3 * r2_long)
    assert out["delta"] == pytest.approx(expected["delta"], rel=1e-7)
    assert out["beta_star_delta1"] == pytest.approx(expected["beta_star_delta1"], rel=1e-7)
    assert out["baseline"] == "b"
