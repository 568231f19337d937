"""Sensitivity of a linear estimate to an unobserved confounder (Cinelli & Hazlett 2020).

Adjusting for the named confounders cannot rule out a hidden one (motivation, health, networks).
The robustness value RV_q says how strong a confounder would have to be - the share of the
residual variance of both the exposure and the outcome it explains (partial R²) - to shrink the
estimate by 100·q % (RV_{q,α}: to make it statistically indistinguishable from that at level α).
Small values mean a weak confounder suffices. Formulas follow sensemakr (R/Python).
"""

from __future__ import annotations

import math
from typing import Any

from scipy import stats


def partial_r2(t: float, dof: int) -> float:
    """Partial R² of the exposure with the outcome, from its t statistic."""
    return t * t / (t * t + dof)


def robustness_value(t: float, dof: int, *, q: float = 1.0, alpha: float | None = None) -> float:
    """RV_q (``alpha`` None) or RV_{q,alpha} from a t statistic and the residual degrees of freedom."""
    fq = q * abs(t) / math.sqrt(dof)
    if alpha is None:
        return 0.5 * (math.sqrt(fq ** 4 + 4 * fq ** 2) - fq ** 2)
    f_crit = abs(stats.t.ppf(alpha / 2, dof - 1)) / math.sqrt(dof - 1)
    fqa = fq - f_crit
    if fqa < 0:
        return 0.0
    if fq > 1 / f_crit:  # very large effects: the closed form of sensemakr's extreme branch
        return (fq ** 2 - f_crit ** 2) / (1 + fq ** 2)
    return 0.5 * (math.sqrt(fqa ** 4 + 4 * fqa ** 2) - fqa ** 2)


def bias_bound(se: float, dof: int, *, r2_yz: float, r2_dz: float) -> float:
    """The largest absolute bias a confounder with these partial R² values can cause."""
    return se * math.sqrt(dof) * math.sqrt(r2_yz * r2_dz / (1 - r2_dz))


def adjusted_interval(estimate: float, se: float, dof: int, *, r2_yz: float, r2_dz: float,
                      toward_zero: bool = True) -> tuple[float, float, float]:
    """Bias-adjusted estimate and 95 % interval for a confounder of the given strength.

    The bias is taken toward zero (the confounder inflates the estimate) unless told otherwise;
    the standard error is rescaled as in Cinelli & Hazlett (eq. 4.4).
    """
    bias = bias_bound(se, dof, r2_yz=r2_yz, r2_dz=r2_dz)
    sign = -1.0 if (estimate > 0) == toward_zero else 1.0
    adjusted = estimate + sign * bias
    se_adj = se * math.sqrt((1 - r2_yz) / (1 - r2_dz) * dof / (dof - 1))
    crit = stats.t.ppf(0.975, dof - 1)
    return adjusted, adjusted - crit * se_adj, adjusted + crit * se_adj


def summary(estimate: float, se: float, dof: int, *, alpha: float = 0.05) -> dict[str, Any]:
    """What a results.json and a sentence need: partial R², RV (to zero) and RV at level alpha."""
    t = estimate / se if se > 0 else float("nan")
    return {
        "method": "Cinelli-Hazlett (2020) robustness value, from the model's t statistic",
        "t": t, "dof": dof, "partial_r2_exposure": partial_r2(t, dof),
        "rv_q1": robustness_value(t, dof), "rv_q1_alpha": robustness_value(t, dof, alpha=alpha), "alpha": alpha,
    }


def sentence(label: str, s: dict[str, Any]) -> str:
    """One plain sentence for a notebook."""
    return (f"For {label}, an unobserved confounder would have to explain **{s['rv_q1'] * 100:.1f} %** of the "
            f"residual variance of both the exposure and the outcome to bring the estimate to zero, and "
            f"{s['rv_q1_alpha'] * 100:.1f} % to make it statistically insignificant at {s['alpha']:.0%} "
            f"(Cinelli-Hazlett robustness values; the exposure itself explains "
            f"{s['partial_r2_exposure'] * 100:.2f} % of the outcome's residual variance).")


# ------------------------------------------------------------------------------------------------
# E-values (VanderWeele & Ding 2017) for the risk-ratio reading of the binary-outcome estimates
# ------------------------------------------------------------------------------------------------


def evalue_rr(rr: float) -> float:
    """E-value of one risk ratio: the minimum strength of association (risk-ratio scale) a hidden
    confounder needs with both exposure and outcome to explain it away. Symmetric: RR and 1/RR agree."""
    if not rr > 0 or not math.isfinite(rr):
        raise ValueError(f"a risk ratio must be positive and finite, got {rr}")
    r = rr if rr >= 1 else 1 / rr
    return r + math.sqrt(r * (r - 1))


def evalues_rr(rr: float, lo: float | None = None, hi: float | None = None) -> dict[str, float | None]:
    """E-values of a risk ratio and of the confidence limit closer to the null (1 if it covers 1)."""
    out: dict[str, float | None] = {"rr": rr, "rr_ci_low": lo, "rr_ci_high": hi, "evalue": evalue_rr(rr), "evalue_ci": None}
    if lo is not None and hi is not None:
        if lo > hi:
            raise ValueError(f"confidence limits out of order: {lo} > {hi}")
        out["evalue_ci"] = 1.0 if lo <= 1 <= hi else evalue_rr(lo if rr > 1 else hi)
    return out


def rr_from_odds_ratio(odds_ratio: float, *, common: bool) -> float:
    """An odds ratio on the risk-ratio scale: itself for a rare outcome (< 15 %), sqrt(OR) when common
    (VanderWeele 2017's approximation, as in VanderWeele & Ding 2017 and the EValue package)."""
    return math.sqrt(odds_ratio) if common else odds_ratio


def evalues_risk_difference(difference: float, ci_low: float, ci_high: float, *, baseline: float) -> dict[str, Any]:
    """E-values of a risk difference (an AME or LPM contrast in probability units), read as the risk
    ratio (baseline + difference) / baseline against the risk of the unexposed, ``baseline``.

    The baseline is treated as known (its sampling error is far smaller than the contrast's here),
    so the interval limits are converted the same way. Why: a hidden confounder's strength is easiest
    to judge on the risk-ratio scale, next to the Cinelli-Hazlett partial R² of the linear models.
    """
    if not 0 < baseline < 1:
        raise ValueError(f"baseline risk must lie in (0, 1), got {baseline}")

    def ratio(d: float) -> float:
        return max(baseline + d, 1e-9) / baseline

    out = evalues_rr(ratio(difference), ratio(ci_low), ratio(ci_high))
    out.update({"method": "E-value (VanderWeele & Ding 2017) of the risk ratio (baseline + difference) / baseline",
                "baseline_risk": baseline, "difference": difference})
    return out


def evalue_sentence(label: str, e: dict[str, Any]) -> str:
    """One plain sentence for a notebook."""
    return (f"For {label} (risk ratio {e['rr']:.3f} against a baseline risk of {e['baseline_risk'] * 100:.1f} %), a hidden "
            f"confounder would need a risk-ratio association of **{e['evalue']:.2f}** with both the exposure and the "
            f"outcome, beyond the named confounders, to explain the estimate away, and {e['evalue_ci']:.2f} to move the "
            "confidence interval to include no effect (E-values, VanderWeele & Ding 2017).")


# ------------------------------------------------------------------------------------------------
# Oster's delta (Oster 2019, "Unobservable selection and coefficient stability", JBES 37(2))
# ------------------------------------------------------------------------------------------------


def oster_from_moments(*, beta_short: float, r2_short: float, beta_long: float, r2_long: float, var_y: float,
                       var_x: float, var_x_resid: float, r_max: float, beta_null: float = 0.0) -> dict[str, Any]:
    """Oster's delta for ``beta_null`` and the bias-adjusted beta* for delta = 1, from the moments of the
    short (outcome on exposure only) and long (with the observed controls) regressions.

    Why: coefficient movement alone says little; Oster weighs it by the movement in R². ``delta`` is how
    strongly the unobservables would have to select on the exposure, relative to the observed controls,
    to bring the estimate to ``beta_null`` if controls and unobservables together explained R_max of the
    outcome; |delta| > 1 is her benchmark of robustness. ``var_x_resid`` is the variance of the exposure's
    residual on the controls (tau_x). Exact formulas of Proposition 2 (as in her psacalc): delta in closed
    form; beta* (delta = 1) the root of a quadratic, the one whose bias has the direction of the observed
    movement (beta* - beta_long same sign as beta_long - beta_short), the nearer if both do.
    """
    if not r2_long <= r_max <= 1:
        raise ValueError(f"R_max must lie in [R² of the long regression, 1], got {r_max} (R² {r2_long})")
    move = beta_short - beta_long
    gain = (r2_long - r2_short) * var_y
    room = (r_max - r2_long) * var_y
    tx, sx = var_x_resid, var_x
    d = beta_long - beta_null
    num = d * gain * tx + d * sx * tx * move ** 2 + 2 * d ** 2 * tx * move * sx + d ** 3 * (tx * sx - tx ** 2)
    den = room * move * sx + d * room * (sx - tx) + d ** 2 * tx * move * sx + d ** 3 * (tx * sx - tx ** 2)
    delta = num / den if den != 0 else math.inf
    # delta = 1: num = den is quadratic in D = beta_long - beta (the cubic terms cancel)
    a, b, c = tx * move * sx, gain * tx + sx * tx * move ** 2 - room * (sx - tx), -room * move * sx
    if a == 0:
        roots = [-c / b] if b != 0 else []
    else:
        disc = b * b - 4 * a * c
        roots = [(-b + s * math.sqrt(disc)) / (2 * a) for s in (1, -1)] if disc >= 0 else []
    candidates = sorted((beta_long - r for r in roots), key=lambda v: abs(v - beta_long))
    same_direction = [v for v in candidates if (v - beta_long) * (beta_long - beta_short) >= 0]
    beta_star = (same_direction or candidates or [None])[0]
    return {
        "method": "Oster (2019) proportional selection: delta for beta = beta_null, beta* for delta = 1",
        "beta_short": beta_short, "r2_short": r2_short, "beta_long": beta_long, "r2_long": r2_long,
        "r_max": r_max, "beta_null": beta_null, "delta": delta, "beta_star_delta1": beta_star,
        "beta_star_roots": [beta_long - r for r in roots],
    }


def oster(data: Any, outcome: str, exposure: str, *, controls: str, fixed_effects: str | None = None,
          baseline: str | None = None, r_max_factor: float = 1.3) -> dict[str, Any]:
    """Oster's delta and beta* of a linear model fitted on ``data`` (polars), R_max = min(factor·R̃², 1).

    Short regression: ``outcome ~ exposure [+ baseline]``; long: ``outcome ~ exposure [+ baseline] +
    controls | fixed_effects`` (pyfixest syntax, the notebook's linear model), both on the same complete
    rows. ``baseline`` are regressors kept in both (psacalc's mcontrols, e.g. the other levels of a
    categorical exposure, so the short regression is the same contrast); the exposure's variance is then
    taken net of them. R² are overall R² (fixed effects count as observed controls, as in psacalc).
    """
    import numpy as np
    import polars as pl
    import pyfixest as pf

    from settlement_research.analysis.models import complete_cases, formula_variables

    base = f" + {baseline}" if baseline else ""
    fe = f" | {fixed_effects}" if fixed_effects else ""
    frame, _ = complete_cases(data, formula_variables(f"{outcome} ~ {exposure}{base} + {controls}{fe}"))
    pdf = frame.to_pandas()
    y = frame[outcome].cast(pl.Float64).to_numpy()
    x = frame[exposure].cast(pl.Float64).to_numpy()

    def fit(formula: str) -> Any:  # singletons kept (a perfect fit; the point estimates are unchanged)
        return pf.feols(formula, data=pdf, vcov="iid", fixef_rm="none")

    def resid(model: Any) -> Any:
        r = np.asarray(model.resid(), dtype=float)
        if r.size != frame.height:  # e.g. singleton fixed effects dropped: the moments must share rows
            raise ValueError(f"{model._fml}: {r.size} of {frame.height} rows used; Oster's moments need the same rows")
        return r

    def r2(model: Any) -> float:
        return float(1 - resid(model).var() / y.var())

    short, long = fit(f"{outcome} ~ {exposure}{base}"), fit(f"{outcome} ~ {exposure}{base} + {controls}{fe}")
    var_x = float(resid(fit(f"{exposure} ~ {baseline}")).var()) if baseline else float(x.var())
    r2_long = r2(long)
    out = oster_from_moments(
        beta_short=float(short.coef()[exposure]), r2_short=r2(short), beta_long=float(long.coef()[exposure]),
        r2_long=r2_long, var_y=float(y.var()), var_x=var_x,
        var_x_resid=float(resid(fit(f"{exposure} ~ {controls}{base}{fe}")).var()),
        r_max=min(r_max_factor * r2_long, 1.0))
    out.update({"r_max_rule": f"min({r_max_factor:g} × R² of the long regression, 1)", "n": frame.height,
                "controls": controls, "fixed_effects": fixed_effects, "baseline": baseline})
    return out


def oster_sentence(label: str, o: dict[str, Any]) -> str:
    """One plain sentence for a notebook."""
    star = o["beta_star_delta1"]
    return (f"For {label}, Oster's δ is **{o['delta']:.2f}**: unobservables would have to be {abs(o['delta']):.2f} times "
            f"as important as the observed controls (and select {'the same' if o['delta'] > 0 else 'the opposite'} way) "
            f"to bring the estimate to zero if together they explained R²max = {o['r_max']:.3f} of the outcome "
            f"({o.get('r_max_rule', 'chosen')}; the model's R² is {o['r2_long']:.3f}); with equal selection (δ = 1) "
            "the bias-adjusted estimate is "
            + (f"{star:+.4f} against {o['beta_long']:+.4f} (Oster 2019)." if star is not None else "not defined (Oster 2019)."))
