"""The attacker's linear program: how far can everything published together narrow a hidden cell?

An attacker who knows the rules sees every shown number and every published total. The hidden cells
of a table (or of the whole publication set) then satisfy a system of linear equations — each
public total minus the shown cells it adds up equals the sum of its hidden cells — plus bounds:
a hidden count is at least 1 when zeros are always shown, and never negative. For each hidden cell
the attacker's *feasible interval* is ``[min x_i, max x_i]`` over that system, two linear programs
(scipy's HiGHS). A cell is **protected** when its interval is at least ``t - 1`` wide and reaches
``t`` (so it is neither pinned nor provably below the threshold); integrality is not required,
which only widens the interval the attacker can rule out by less than 1.

Why not the rank test of the old audit: exact recovery (a unit vector in the row space) is only the
worst case; bounds from non-negativity prove "fewer than 5" without pinning anything, which is the
attack the issue reproduced (186 cells). Solver: HiGHS, the one behind scipy's ``linprog``, driven
through its bindings so that each component's model is built once and warm-started. Speed: the system splits into connected components (cells
sharing an equation); within one, every LP solution is a feasible point and widens the *observed*
range of all cells at once, so most cells are certified safe without their own LP (observed range
⊆ true interval). Only cells that the observed range cannot certify get their exact two LPs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix

TOL = 1e-6


@dataclass(frozen=True)
class Equation:
    """``sum(coef * x[cells]) == rhs`` over hidden cells (indices into the unknowns)."""

    cells: np.ndarray
    coef: np.ndarray
    rhs: float


@dataclass(frozen=True)
class Inequality:
    """``sum(coef * x[cells]) <= rhs`` (e.g. what a rounded share tells about its count and base)."""

    cells: np.ndarray
    coef: np.ndarray
    rhs: float


@dataclass
class Intervals:
    """Per unknown: the attacker's bounds. ``exact`` False means the bounds are an inner (observed)
    range, enough to prove the cell protected but not its full interval."""

    lower: np.ndarray
    upper: np.ndarray
    exact: np.ndarray
    lps: int = 0

    def unsafe(self, t: int) -> np.ndarray:
        """Cells pinned, provably below ``t``, or narrower than ``t - 1`` (only meaningful where
        ``exact``; an inner range that passes is a proof of safety)."""
        width = self.upper - self.lower
        return (self.upper < t - TOL) | (width < max(t - 1, 1) - TOL) | (width < TOL)

    def pinned(self) -> np.ndarray:
        return self.exact & (self.upper - self.lower < TOL)


def _components(n: int, equations: Sequence[Equation | Inequality]) -> list[np.ndarray]:
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for eq in equations:
        cells = np.asarray(eq.cells, dtype=int)
        if cells.size < 2:
            continue
        root = find(int(cells[0]))
        for c in cells[1:]:
            r = find(int(c))
            if r != root:
                parent[r] = root
    roots = np.array([find(i) for i in range(n)], dtype=int)
    order = np.argsort(roots, kind="stable")
    splits = np.flatnonzero(np.diff(roots[order])) + 1
    return [g for g in np.split(order, splits) if g.size]


def _matrix(rows: Sequence[Equation | Inequality], local: np.ndarray, k: int) -> tuple[csr_matrix | None, np.ndarray | None]:
    if not rows:
        return None, None
    data, ri, ci, rhs = [], [], [], []
    for r, eq in enumerate(rows):
        cells = local[np.asarray(eq.cells, dtype=int)]
        data.append(np.asarray(eq.coef, dtype=float))
        ri.append(np.full(cells.size, r))
        ci.append(cells)
        rhs.append(eq.rhs)
    matrix = csr_matrix((np.concatenate(data), (np.concatenate(ri), np.concatenate(ci))), shape=(len(rows), k))
    return matrix, np.asarray(rhs, dtype=float)


def _highs() -> Any:
    """HiGHS's Python bindings: the copy scipy ships (what ``linprog(method="highs")`` runs), else
    the ``highspy`` package. Used directly because ``linprog`` rebuilds the model for every solve,
    while here one model per component is re-solved from the previous basis (about 40x faster)."""
    try:
        from scipy.optimize._highspy import _core

        return _core
    except ImportError:  # a scipy that moved its bindings: the standalone package has the same API
        import highspy

        return highspy


class _Solver:
    """One component's LP, built once; each solve only changes the objective, so HiGHS restarts
    the simplex from the previous basis (a few pivots instead of a fresh solve)."""

    def __init__(self, k: int, eqs: Sequence[Equation], ubs: Sequence[Inequality], local: np.ndarray,
                 lower: np.ndarray, upper: np.ndarray) -> None:
        highspy = _highs()
        self.k, self.lps, self._hs = k, 0, highspy
        rows = [*eqs, *ubs]
        matrix, rhs = _matrix(rows, local, k)
        assert matrix is not None and rhs is not None
        csc = matrix.tocsc()
        inf = highspy.kHighsInf
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = k, len(rows)
        lp.col_cost_ = np.zeros(k)
        lp.col_lower_ = np.asarray(lower, dtype=float)
        lp.col_upper_ = np.where(np.isinf(upper), inf, upper).astype(float)
        lp.row_lower_ = np.concatenate([rhs[: len(eqs)], np.full(len(ubs), -inf)])
        lp.row_upper_ = rhs
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
        lp.a_matrix_.index_ = csc.indices.astype(np.int32)
        lp.a_matrix_.value_ = csc.data.astype(float)
        self.h = highspy._Highs() if hasattr(highspy, "_Highs") else highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("presolve", "off")  # keep the basis between solves (warm start)
        self.h.setOptionValue("solver", "simplex")
        self.h.passModel(lp)
        self.cost = np.zeros(k)
        self.all = np.arange(k, dtype=np.int32)

    def solve(self, cost: np.ndarray) -> tuple[str, np.ndarray | None]:
        """Minimise ``cost @ x``; ("optimal", x) | ("unbounded", None) | ("infeasible", None)."""
        self.cost = np.asarray(cost, dtype=float).copy()
        self.h.changeColsCost(self.k, self.all, self.cost)
        return self._run()

    def solve_one(self, j: int, sign: float) -> tuple[str, np.ndarray | None]:
        """Minimise ``sign * x_j`` (``-1``: the largest ``x_j``)."""
        changed = np.flatnonzero(self.cost)
        if changed.size:
            self.h.changeColsCost(changed.size, changed.astype(np.int32), np.zeros(changed.size))
        self.cost = np.zeros(self.k)
        self.cost[j] = sign
        self.h.changeColCost(j, sign)
        return self._run()

    def _run(self) -> tuple[str, np.ndarray | None]:
        self.lps += 1
        self.h.run()
        status = self.h.getModelStatus()
        statuses = self._hs.HighsModelStatus
        if status == statuses.kOptimal:
            return "optimal", np.asarray(self.h.getSolution().col_value)
        if status in (statuses.kUnbounded, statuses.kUnboundedOrInfeasible):
            return "unbounded", None
        if status == statuses.kInfeasible:
            raise ValueError("intervals: the published system is infeasible (an assumed bound is wrong)")
        raise RuntimeError(f"intervals: HiGHS stopped with {self.h.modelStatusToString(status)}")


def intervals(
    n: int, equations: Sequence[Equation], lower: np.ndarray | float = 0.0, upper: np.ndarray | float = np.inf,
    *, inequalities: Sequence[Inequality] = (), t: int | None = None, exact: bool = False,
    start: np.ndarray | None = None,
) -> Intervals:
    """The attacker's interval of each of ``n`` unknowns.

    ``exact=False`` (needs ``t``): stop working on a cell as soon as the observed range proves it
    protected; ``start`` (e.g. the true values, which are feasible) seeds the observed range.
    ``exact=True``: two LPs per cell, the full interval (what a test's attacker uses).
    """
    lower = np.broadcast_to(np.asarray(lower, dtype=float), (n,)).copy()
    upper = np.broadcast_to(np.asarray(upper, dtype=float), (n,)).copy()
    lo = np.full(n, np.inf)
    hi = np.full(n, -np.inf)
    if start is not None:
        lo = np.minimum(lo, start)
        hi = np.maximum(hi, start)
    done = np.zeros(n, bool)  # exact bounds known
    lps = 0
    by_comp_eq: dict[int, list[Equation]] = {}
    by_comp_ub: dict[int, list[Inequality]] = {}
    comps = _components(n, [*equations, *inequalities])
    comp_of = np.empty(n, dtype=int)
    for k, cells in enumerate(comps):
        comp_of[cells] = k
    for eq in equations:
        if np.asarray(eq.cells).size:
            by_comp_eq.setdefault(int(comp_of[int(eq.cells[0])]), []).append(eq)
    for iq in inequalities:
        if np.asarray(iq.cells).size:
            by_comp_ub.setdefault(int(comp_of[int(iq.cells[0])]), []).append(iq)

    def protected(i: int) -> bool:
        with np.errstate(invalid="ignore"):  # inf - inf before a cell is observed: not yet protected
            return t is not None and bool(hi[i] >= t - TOL and hi[i] - lo[i] >= max(t - 1, 1) - TOL)

    for k, cells in enumerate(comps):
        local = np.full(n, -1)
        local[cells] = np.arange(cells.size)
        eqs, ubs = by_comp_eq.get(k, []), by_comp_ub.get(k, [])
        if not eqs and not ubs:  # no equation touches these cells: only their bounds
            lo[cells], hi[cells], done[cells] = lower[cells], upper[cells], True
            continue
        solver = _Solver(cells.size, eqs, ubs, local, lower[cells], upper[cells])

        def observe(x: np.ndarray | None, cells: np.ndarray = cells) -> None:
            if x is not None:
                lo[cells] = np.minimum(lo[cells], x)
                hi[cells] = np.maximum(hi[cells], x)

        if not exact and t is not None:  # push everything up, then down: two LPs certify many cells
            for sign in (-1.0, 1.0):
                status, x = solver.solve(np.full(cells.size, sign))
                observe(x)
                if status == "unbounded":  # certify cell by cell below
                    break
        for j, i in enumerate(cells.tolist()):
            if not exact and protected(i):
                continue
            status, x = solver.solve_one(j, -1.0)
            if status == "unbounded":
                hi[i] = np.inf
            elif status == "optimal":
                observe(x)
                hi[i] = float(x[j])
            if not exact and protected(i):
                continue
            status, x = solver.solve_one(j, 1.0)
            if status == "optimal":
                observe(x)
                lo[i] = float(x[j])
            done[i] = True
        lps += solver.lps
    lo = np.where(np.isinf(lo), lower, lo)
    return Intervals(lo, hi, done, lps)


__all__ = ["Equation", "Inequality", "Intervals", "TOL", "intervals"]
