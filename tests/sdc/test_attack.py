"""The attacker's LP: the fast certification agrees with the exact intervals, on tables small enough
to reason about by hand."""

from __future__ import annotations

import numpy as np

from settlement_research import sdc
from settlement_research.sdc.attack import Equation, intervals
from settlement_research.sdc.suppression import table_equations


def test_a_pair_behind_a_row_total_is_proven_small_but_not_pinned() -> None:
    # x0 + x1 = 4 with x >= 1: each in [1, 3] -- not pinned, but provably below 5
    found = intervals(2, [Equation(np.array([0, 1]), np.array([1.0, 1.0]), 4.0)], 1.0, exact=True)
    assert np.allclose(found.lower, [1, 1]) and np.allclose(found.upper, [3, 3])
    assert found.unsafe(5).all() and not found.pinned().any()
    # an unbounded cell (no equation) is safe
    free = intervals(1, [], 1.0, exact=True)
    assert np.isinf(free.upper[0]) and not free.unsafe(5).any()


def test_fast_certification_and_exact_intervals_agree_on_random_tables() -> None:
    rng = np.random.default_rng(7)
    for _ in range(12):
        values = rng.integers(0, 12, size=(5, 4)).astype(float)
        lines = sdc.margin_lines(5, 4)
        mask = rng.random((5, 4)) < 0.35
        mask &= values > 0
        unknown, eqs = table_equations(values, mask, lines)
        if not unknown.size:
            continue
        exact = intervals(unknown.size, eqs, 1.0, exact=True)
        truth = values.ravel()[unknown]
        assert (exact.lower <= truth + 1e-6).all() and (truth <= exact.upper + 1e-6).all()
        fast = sdc.exposed(values, mask, lines, 5).ravel()[unknown]
        assert (fast == exact.unsafe(5)).all()
        protected = sdc.protect(values, 5, lines)
        flat, hidden = values.ravel(), protected.ravel()
        for cell in np.flatnonzero(sdc.exposed(values, protected, lines, 5)):
            # left exposed only when no line of it has a non-zero shown cell to hide as a partner:
            # then the line's total must not be published (protect's documented limit)
            partners = [i for idx, _ in lines if cell in idx for i in idx if not hidden[i] and flat[i] > 0]
            assert not partners, (values, protected)
