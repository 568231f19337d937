"""The AME standard errors: conditional on the covariates (sample-mean estimand) or unconditional
(population AME, Stata's margins vce(unconditional)), each checked against an independent computation
and against simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy.special import expit

from settlement_research.analysis import models


@pytest.fixture(scope="module")
def tiny() -> pl.DataFrame:
    rng = np.random.default_rng(3)
    n = 300
    x = rng.normal(size=n)
    cat = rng.choice(["a", "b", "c"], size=n)
    g = rng.integers(0, 25, n)
    eta = -0.3 + 1.8 * x + np.where(cat == "b", 0.8, np.where(cat == "c", -0.6, 0.0)) + rng.normal(0, 0.5, 25)[g]
    return pl.DataFrame({"y": (rng.random(n) < expit(eta)).astype(int), "x": x, "cat": cat,
                         "g": [f"{1000 + v}" for v in g]})


def _explicit(frame: pl.DataFrame, res: models.FitResult) -> dict[str, tuple[float, float, float]]:
    """AME, conditional SE (gradient by finite differences times statsmodels' clustered covariance) and
    unconditional SE (influence function written out by hand) for x and the level b of cat."""
    fit = res.fit
    x = np.asarray(fit.model.exog, dtype=float)
    y = np.asarray(fit.model.endog, dtype=float)
    names = list(fit.params.index)
    beta = np.asarray(fit.params, dtype=float)
    j, kb, kc = names.index("x"), names.index("C(cat)[T.b]"), names.index("C(cat)[T.c]")
    x0 = x.copy()
    x0[:, [kb, kc]] = 0.0
    x1 = x0.copy()
    x1[:, kb] = 1.0

    def me(b: np.ndarray, term: str) -> np.ndarray:
        if term == "x":
            p = expit(x @ b)
            return b[j] * p * (1 - p)
        return expit(x1 @ b) - expit(x0 @ b)

    n, k = x.shape
    p = expit(x @ beta)
    h = x.T @ (x * (p * (1 - p))[:, None])
    if_beta = (x * (y - p)[:, None]) @ np.linalg.inv(h)  # row i: H^-1 s_i
    codes = np.unique(frame["g"].to_numpy(), return_inverse=True)[1]
    groups = codes.max() + 1
    factor = groups / (groups - 1) * (n - 1) / (n - k)
    out = {}
    for term in ("x", "C(cat)[T.b]"):
        grad = np.array([(me(beta + e, term).mean() - me(beta - e, term).mean()) / 2e-6 for e in np.eye(k) * 1e-6])
        cond = float(np.sqrt(grad @ np.asarray(fit.cov_params()) @ grad))
        psi = (me(beta, term) - me(beta, term).mean()) / n + if_beta @ grad
        by = np.zeros(groups)
        np.add.at(by, codes, psi)
        out[term] = (float(me(beta, term).mean()), cond, float(np.sqrt(factor * (by ** 2).sum())))
    return out


def test_both_variances_equal_an_explicit_computation(tiny: pl.DataFrame) -> None:
    cond = models.logit_ame(tiny, "y ~ x + C(cat)", cluster="g")
    uncond = models.logit_ame(tiny, "y ~ x + C(cat)", cluster="g", vce="unconditional")
    assert cond.vce == "conditional" and uncond.vce == "unconditional"
    assert any("conditional on the sample" in n for n in cond.notes)
    assert any("unconditional" in n for n in uncond.notes)
    assert cond.summary()["vce"] == "conditional"
    expected = _explicit(tiny, cond)
    for term, (ame, se_cond, se_uncond) in expected.items():
        c, u = cond.term(term), uncond.term(term)
        assert c["estimate"] == pytest.approx(ame, rel=1e-10) and u["estimate"] == c["estimate"]
        assert c["std_error"] == pytest.approx(se_cond, rel=1e-6)
        assert u["std_error"] == pytest.approx(se_uncond, rel=1e-6)
        assert u["ci_high"] - u["ci_low"] == pytest.approx(2 * 1.959964 * se_uncond, rel=1e-6)
    # the covariate part matters here: the two must differ
    assert abs(uncond.term("x")["std_error"] / cond.term("x")["std_error"] - 1) > 0.01


def test_unknown_vce_is_refused(tiny: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="vce"):
        models.logit_ame(tiny, "y ~ x", cluster="g", vce="robust")


def test_each_variance_matches_the_spread_around_its_own_estimand() -> None:
    """Simulation: heterogeneous marginal effects (a steep logit). Around the population AME the
    estimates spread as the unconditional SE says and the conditional SE is far too small; around
    the sample-mean AME (what the synthetic truths are) the conditional SE is the right one."""
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(11)
    b0, b1, b2 = -0.5, 2.5, 1.0

    def draw(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, z = rng.normal(size=n), (rng.random(n) < 0.5).astype(float)
        return x, z, expit(b0 + b1 * x + b2 * z)

    *_, p_pop = draw(1_000_000)
    population_ame = float(np.mean(b1 * p_pop * (1 - p_pop)))
    rows = []
    for _ in range(200):
        x, z, p = draw(400)
        df = pd.DataFrame({"y": (rng.random(400) < p).astype(float), "x": x, "z": z, "g": np.arange(400)})
        fit = smf.logit("y ~ x + z", data=df).fit(disp=False, cov_type="cluster", cov_kwds={"groups": df["g"].to_numpy()})
        c = models.ame_table(fit, df, df["g"].to_numpy()).row(0, named=True)
        u = models.ame_table(fit, df, df["g"].to_numpy(), vce="unconditional").row(0, named=True)
        rows.append((c["estimate"], c["std_error"], u["std_error"], float(np.mean(b1 * p * (1 - p)))))
    a = np.array(rows)
    err_population, err_sample = a[:, 0] - population_ame, a[:, 0] - a[:, 3]
    assert (a[:, 2] > a[:, 1]).all()  # heterogeneous effects: the covariate part only adds here
    assert 0.85 < err_population.std(ddof=1) / a[:, 2].mean() < 1.15
    assert err_population.std(ddof=1) / a[:, 1].mean() > 1.3
    assert 0.85 < err_sample.std(ddof=1) / a[:, 1].mean() < 1.15
