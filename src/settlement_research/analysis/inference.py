"""Inference for few or unbalanced clusters: wild cluster bootstrap and minimum detectable effects.

Why: with nine IMDi-Husbanken office pairs, a municipality-clustered interval treats hundreds of
municipalities as independent evidence about a pair-level exposure, and even CR1 clustered by pair
over-rejects with so few clusters. The restricted wild cluster bootstrap (WCR, Cameron, Gelbach &
Miller 2008) with Webb's six-point weights (Webb 2023) keeps its size with as few as 6-10 clusters;
with one observation per cluster it is the ordinary wild bootstrap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

WEBB = np.array([-math.sqrt(1.5), -1.0, -math.sqrt(0.5), math.sqrt(0.5), 1.0, math.sqrt(1.5)])


@dataclass(frozen=True)
class BootstrapResult:
    estimate: float
    t_stat: float
    p_value: float
    reps: int
    clusters: int
    weights: str = "webb"

    def to_dict(self) -> dict[str, float | int | str]:
        return {"estimate": self.estimate, "t": self.t_stat, "p_value": self.p_value, "reps": self.reps,
                "clusters": self.clusters, "method": f"wild cluster bootstrap (WCR, {self.weights} weights)"}


def _cr1_t(x: np.ndarray, y: np.ndarray, groups: np.ndarray, k: int, xtx_inv: np.ndarray) -> np.ndarray:
    """t statistics of coefficient k for many outcome columns ``y`` (n, B) with CR1 errors."""
    beta = xtx_inv @ x.T @ y  # (p, B)
    u = y - x @ beta
    n, p = x.shape
    g = int(groups.max()) + 1
    a = xtx_inv[k] @ x.T  # (n,): row k of (X'X)^-1 X'
    scores = np.zeros((g, y.shape[1]))
    np.add.at(scores, groups, a[:, None] * u)
    var = (scores ** 2).sum(axis=0) * g / (g - 1) * (n - 1) / (n - p)
    return beta[k] / np.sqrt(var)


def wild_cluster_bootstrap(x: np.ndarray, y: np.ndarray, groups: np.ndarray, k: int, *, reps: int = 9999,
                           seed: int = 1, batch: int = 1000) -> BootstrapResult:
    """Two-sided p-value for H0: beta_k = 0, restricted wild cluster bootstrap with Webb weights.

    ``x`` includes the intercept; ``groups`` are cluster labels (any hashable, mapped to 0..G-1).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    _, codes = np.unique(np.asarray(groups), return_inverse=True)
    g = int(codes.max()) + 1
    xtx_inv = np.linalg.pinv(x.T @ x)
    t0 = float(_cr1_t(x, y[:, None], codes, k, xtx_inv)[0])
    estimate = float((xtx_inv @ x.T @ y)[k])
    xr = np.delete(x, k, axis=1)
    fitted = xr @ np.linalg.lstsq(xr, y, rcond=None)[0]
    resid = y - fitted
    rng = np.random.default_rng(seed)
    exceed = 0
    done = 0
    while done < reps:
        b = min(batch, reps - done)
        v = WEBB[rng.integers(0, 6, size=(g, b))]
        ystar = fitted[:, None] + resid[:, None] * v[codes]
        tb = _cr1_t(x, ystar, codes, k, xtx_inv)
        exceed += int((np.abs(tb) >= abs(t0) - 1e-12).sum())
        done += b
    return BootstrapResult(estimate, t0, (exceed + 1) / (reps + 1), reps, g)


def minimum_detectable_effect(se: float, dof: int, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest true effect a two-sided test at ``alpha`` detects with ``power``: (t_{1-a/2} + t_power) * se."""
    return float((stats.t.ppf(1 - alpha / 2, dof) + stats.t.ppf(power, dof)) * se)
