"""The whole publication set as one system of equations, attacked as a reader would attack it.

Every profile shows its settled refugees per year (':' hidden, '..' no data) and their window total;
notebook 01 shows the national sum over municipalities per year. Together: per municipality "the
years add up to the window total", per year "the municipalities add up to the national sum". This
module reads those numbers back from the rendered results.json files — nothing else, the way an
outsider would — and computes, with :func:`settlement_research.sdc.attack.intervals`, how far they
narrow every hidden cell. :func:`audit_set` checks a rendered folder of profiles with notebook 01's
results (benchmarks/bench_sdc.py runs it on all 428); tests attack the same system with an
independent linprog attacker. Not yet wired into ``report`` itself: a batch does not know where
notebook 01's results are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from settlement_research.sdc.attack import Equation, Intervals, intervals
from settlement_research.sdc.rules import NOT_AVAILABLE, SUPPRESSED, threshold

Key = tuple[str, ...]


@dataclass
class Publication:
    """Published cells (a value, or None when hidden) and the published sums over them."""

    shown: dict[Key, float] = field(default_factory=dict)
    hidden: dict[Key, float] = field(default_factory=dict)  # hidden cell -> the attacker's lower bound
    sums: list[tuple[list[tuple[Key, float]], float]] = field(default_factory=list)
    conflicts: list[Key] = field(default_factory=list)  # shown differently in two places

    def cell(self, key: Key, value: float | None, *, lower: float = 1.0) -> None:
        if value is None:
            if key not in self.shown:
                self.hidden[key] = min(self.hidden.get(key, lower), lower)
            return
        if key in self.hidden or (key in self.shown and self.shown[key] != value):
            self.conflicts.append(key)
        self.shown[key] = float(value)

    def add_sum(self, terms: Iterable[tuple[Key, float]], total: float) -> None:
        self.sums.append((list(terms), float(total)))

    def attack(self, *, t: int | None = None, exact: bool = False) -> dict[Key, tuple[float, float]]:
        """The attacker's interval of every hidden cell."""
        t = threshold() if t is None else t
        keys = [k for k in self.hidden if k not in self.shown]
        index = {k: i for i, k in enumerate(keys)}
        equations = []
        for terms, total in self.sums:
            cells, coef, rhs = [], [], total
            for key, w in terms:
                if key in index:
                    cells.append(index[key])
                    coef.append(w)
                elif key in self.shown:
                    rhs -= w * self.shown[key]
            if cells:
                equations.append(Equation(np.array(cells), np.array(coef, dtype=float), rhs))
        lower = np.array([self.hidden[k] for k in keys])
        found: Intervals = intervals(len(keys), equations, lower, t=t, exact=exact)
        self.last = found
        return {k: (float(found.lower[i]), float(found.upper[i])) for k, i in index.items()}


def settled_publication(profiles: Iterable[Mapping[str, Any]], national: Mapping[str, Any] | None,
                        *, complete: bool = True) -> Publication:
    """The settled numbers of a set of municipality profiles' results.json and notebook 01's.

    ``complete``: the profiles cover every municipality in notebook 01's national sums (the grid
    ``kommune_nr=all``); otherwise one unknown "the rest" (at least 0) per year joins each sum.
    """
    pub = Publication()
    years: set[str] = set()
    by_year: dict[str, list[Key]] = {}
    for results in profiles:
        code = str(results["kommune_nr"])
        symbols = results.get("settled_symbols") or {}
        row: list[Key] = []
        for year, value in (results.get("settled_by_year") or {}).items():
            if value is None and symbols.get(year) != SUPPRESSED:
                continue  # '..': no data, part of no sum
            key = (code, str(year))
            pub.cell(key, value)
            row.append(key)
            by_year.setdefault(str(year), []).append(key)
            years.add(str(year))
        if row and results.get("settled_symbol") != NOT_AVAILABLE:
            total = (code, "total")
            pub.cell(total, results.get("settled"))
            pub.add_sum([*((k, 1.0) for k in row), (total, -1.0)], 0.0)
    sums = (national or {}).get("settled_by_year") or {}
    for year, total in sums.items():
        if total is None or str(year) not in by_year:
            continue
        terms = [(k, 1.0) for k in by_year[str(year)]]
        if not complete:
            rest = ("rest", str(year))
            pub.cell(rest, None, lower=0.0)
            terms.append((rest, 1.0))
        pub.add_sum(terms, float(total))
    return pub


@dataclass
class SetAudit:
    """The result of attacking a publication set."""

    hidden: int
    pinned: list[Key]
    below_threshold: list[Key]
    narrow: list[Key]
    conflicts: list[Key]
    lps: int

    @property
    def ok(self) -> bool:
        return not (self.pinned or self.below_threshold or self.narrow or self.conflicts)


def audit_publication(pub: Publication, *, t: int | None = None, exact: bool = False) -> SetAudit:
    t = threshold() if t is None else t
    bounds = pub.attack(t=t, exact=exact)
    cells = [k for k in bounds if k[0] != "rest"]
    pinned = [k for k in cells if bounds[k][1] - bounds[k][0] < 1e-6]
    below = [k for k in cells if bounds[k][1] < t - 1e-6]
    narrow = [k for k in cells if bounds[k][1] - bounds[k][0] < max(t - 1, 1) - 1e-6]
    return SetAudit(len(cells), pinned, below, narrow, pub.conflicts, pub.last.lps)


def read_results(folder: Path) -> list[dict[str, Any]]:
    """Every ``*.results.json`` in a batch folder."""
    return [json.loads(p.read_text("utf-8")) for p in sorted(folder.glob("*.results.json"))]


def audit_set(profiles_dir: Path, national_results: Path | None, *, t: int | None = None, exact: bool = False,
              complete: bool = True) -> SetAudit:
    """Attack a folder of rendered municipality profiles together with notebook 01's results.json."""
    national = json.loads(national_results.read_text("utf-8")) if national_results and national_results.is_file() else None
    pub = settled_publication(read_results(profiles_dir), national, complete=complete)
    return audit_publication(pub, t=t, exact=exact)


__all__ = ["Publication", "SetAudit", "audit_publication", "audit_set", "read_results", "settled_publication"]
