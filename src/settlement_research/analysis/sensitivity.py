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
