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
