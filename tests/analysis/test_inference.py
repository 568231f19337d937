"""Wild cluster bootstrap: right size with few clusters, power when there is an effect; MDE formula."""

from __future__ import annotations

import numpy as np
import pytest

from settlement_research.analysis import inference


def _data(rng: np.random.Generator, beta: float, g: int = 9, per: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    groups = np.repeat(np.arange(g), per)
    xg = rng.normal(size=g)  # a cluster-level exposure, like the coordination index
    y = beta * xg[groups] + rng.normal(size=g)[groups] + rng.normal(size=g * per)
    return np.column_stack([np.ones(g * per), xg[groups]]), y, groups


def test_size_is_close_to_nominal_with_nine_clusters() -> None:
    rng = np.random.default_rng(0)
    rejections = [inference.wild_cluster_bootstrap(*_data(rng, 0.0), k=1, reps=399, seed=i).p_value < 0.05
                  for i in range(120)]
    assert np.mean(rejections) < 0.12  # CR1 with nine clusters rejects far more often


def test_a_strong_effect_is_detected_and_the_estimate_is_ols() -> None:
    rng = np.random.default_rng(1)
    x, y, groups = _data(rng, 3.0)
    res = inference.wild_cluster_bootstrap(x, y, groups, k=1, reps=999)
    assert res.p_value < 0.05 and res.clusters == 9
    assert res.estimate == pytest.approx(np.linalg.lstsq(x, y, rcond=None)[0][1])


def test_minimum_detectable_effect() -> None:
    # (t_.975,7 + t_.80,7) = 2.3646 + 0.8960
    assert inference.minimum_detectable_effect(1.0, 7) == pytest.approx(3.2606, abs=1e-3)
