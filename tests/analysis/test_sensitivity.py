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
