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
