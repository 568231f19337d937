"""The whole publication set as one system of equations, attacked as a reader would attack it.

Every profile shows its settled refugees per year (':' hidden, '..' no data) and their window total;
notebook 01 shows the national sum over municipalities per year. Together: per municipality "the
years add up to the window total", per year "the municipalities add up to the national sum". This
module reads those numbers back from the rendered results.json files — nothing else, the way an
outsider would — and computes, with :func:`settlement_research.sdc.attack.intervals`, how far they
narrow every hidden cell. :func:`audit_set` checks a rendered folder of profiles with notebook 01's
results (benchmarks/bench_sdc.py runs it on all 428); tests attack the same system with an
independent linprog attacker. :func:`audit_batch` runs after every ``report`` batch (the national
series taken from the data, since it is public whether or not notebook 01 was rendered) and
withholds the reports whose hidden cells the set exposes. Rounded shares enter as interval
constraints (a pooled share shown as 0.55 of a base n: the count lies in [0.545 n, 0.555 n]).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from settlement_research.sdc.attack import Equation, Inequality, Intervals, intervals
from settlement_research.sdc.rules import NOT_AVAILABLE, SUPPRESSED, share_step, threshold

Key = tuple[str, ...]


@dataclass
class Publication:
    """Published cells (a value, or None when hidden) and the published sums over them."""

    shown: dict[Key, float] = field(default_factory=dict)
    hidden: dict[Key, float] = field(default_factory=dict)  # hidden cell -> the attacker's lower bound
    sums: list[tuple[list[tuple[Key, float]], float]] = field(default_factory=list)
    at_most: list[tuple[list[tuple[Key, float]], float]] = field(default_factory=list)
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

    def add_at_most(self, terms: Iterable[tuple[Key, float]], bound: float) -> None:
        """``sum(w * cell) <= bound`` (what a rounded share, or "a part is at most its whole", says)."""
        self.at_most.append((list(terms), float(bound)))

    def add_share(self, counts: Sequence[Key], bases: Sequence[Key], share: float, step: float) -> None:
        """A share shown as ``share`` after rounding to ``step``: the count behind it lies in
        ``[(share - step/2) * base, (share + step/2) * base]`` — two inequalities over the cells."""
        low, high = share - step / 2, share + step / 2
        self.add_at_most([*((k, 1.0) for k in counts), *((k, -high) for k in bases)], 0.0)
        self.add_at_most([*((k, -1.0) for k in counts), *((k, low) for k in bases)], 0.0)

    def attack(self, *, t: int | None = None, exact: bool = False) -> dict[Key, tuple[float, float]]:
        """The attacker's interval of every hidden cell."""
        t = threshold() if t is None else t
        keys = [k for k in self.hidden if k not in self.shown]
        index = {k: i for i, k in enumerate(keys)}

        def rows(source: list[tuple[list[tuple[Key, float]], float]], kind: type) -> list[Any]:
            out = []
            for terms, total in source:
                cells, coef, rhs = [], [], total
                for key, w in terms:
                    if key in index:
                        cells.append(index[key])
                        coef.append(w)
                    elif key in self.shown:
                        rhs -= w * self.shown[key]
                if cells:
                    out.append(kind(np.array(cells), np.array(coef, dtype=float), rhs))
            return out

        equations = rows(self.sums, Equation)
        inequalities = rows(self.at_most, Inequality)
        lower = np.array([self.hidden[k] for k in keys])
        found: Intervals = intervals(len(keys), equations, lower, inequalities=inequalities, t=t, exact=exact)
        self.last = found
        return {k: (float(found.lower[i]), float(found.upper[i])) for k, i in index.items()}


def settled_publication(profiles: Iterable[Mapping[str, Any]], national: Mapping[str, Any] | None,
                        *, complete: bool = True) -> Publication:
    """The settled numbers of a set of municipality profiles' results.json and notebook 01's.

    ``complete``: the profiles cover every municipality in notebook 01's national sums (the grid
    ``kommune_nr=all``); otherwise one unknown "the rest" (at least 0) per year joins each sum.
    """
    pub = Publication()
    empty = {tuple(map(str, cell)) for cell in (national or {}).get("empty_cells") or []}
    years: set[str] = set()
    by_year: dict[str, list[Key]] = {}
    for results in profiles:
        code = str(results["kommune_nr"])
        symbols = results.get("settled_symbols") or {}
        row: list[Key] = []
        for year, value in (results.get("settled_by_year") or {}).items():
            key = (code, str(year))
            if (value is None and symbols.get(year) != SUPPRESSED) or key in empty:
                continue  # '..' or left empty by the source: no data, part of no sum
            pub.cell(key, value)
            row.append(key)
            by_year.setdefault(str(year), []).append(key)
            years.add(str(year))
        if row and results.get("settled_symbol") != NOT_AVAILABLE:
            total = (code, "total")
            pub.cell(total, results.get("settled"))
            pub.add_sum([*((k, 1.0) for k in row), (total, -1.0)], 0.0)
        _add_work_education(pub, code, results)
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


def _add_work_education(pub: Publication, code: str, results: Mapping[str, Any]) -> None:
    """A profile's yearly in-work counts and their bases (leavers with known status), and the pooled
    share over the window rounded as ``share_step`` of the pooled base says (the attacker knows the
    rule): count_y <= base_y, and the pooled share's interval over the sums."""
    share = results.get("work_education_share")
    if share is None:
        return  # hidden counts hide their bases too: without the share, count <= base bounds nothing
    counts = results.get("work_education_by_year") or {}
    bases = results.get("work_education_base_by_year") or {}
    symbols = results.get("work_education_symbols") or {}
    count_keys, base_keys = [], []
    for year in counts:
        if counts[year] is None and symbols.get(year) != SUPPRESSED:
            continue  # no data
        c, b = (code, "work_education", str(year)), (code, "work_education_base", str(year))
        pub.cell(c, counts[year])
        pub.cell(b, bases.get(year), lower=1.0)
        pub.add_at_most([(c, 1.0), (b, -1.0)], 0.0)
        count_keys.append(c)
        base_keys.append(b)
    if not count_keys:
        return
    known = [pub.shown[k] for k in base_keys if k in pub.shown]
    base = sum(known) if len(known) == len(base_keys) else None
    step = share_step(base) if base is not None else None
    pub.add_share(count_keys, base_keys, float(share), step if step is not None else 0.001)


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




def national_settled(source: str, first_year: int, last_year: int) -> dict[str, Any]:
    """The national settled series over municipalities, per year — what notebook 01 publishes as
    ``settled_by_year`` — computed from the clean data (an attacker has it whether or not notebook
    01 was rendered in this run)."""
    import polars as pl

    from settlement_research.catalog import load

    frame = load("kommune_settlement_year", source=source).filter(pl.col("year").is_between(first_year, last_year))
    sums = frame.group_by("year").agg(pl.col("settled").sum(), pl.col("settled").is_not_null().any().alias("known"))
    # a cell the source itself left empty is in no sum (the national sum skips it, the window total too)
    empty = frame.filter(pl.col("settled").is_null()).select("kommune_nr", pl.col("year").cast(pl.String))
    return {"settled_by_year": {str(y): (int(s) if k else None) for y, s, k in sums.sort("year").iter_rows()},
            "empty_cells": [list(r) for r in empty.iter_rows()]}


WITHHELD = ("whole-set disclosure audit: a hidden cell of this report can be pinned, or proven below the threshold, "
            "from everything published together (the other reports and the national series); outputs withheld")


def _withhold(out_dir: Path, entry: dict[str, Any], reason: str) -> None:
    for key in ("html", "notebook", "results_file"):
        if entry.get(key):
            (out_dir / entry[key]).unlink(missing_ok=True)
            entry[key] = None
    entry.update(status="failed", error=reason, results=None, cached=False)


NO_REGISTER = ("source {source!r} holds no person-level register table: every count it shows is a statistic "
               "its publisher has already published (IMDi's exports), so there is no register cell for the "
               "whole-set attack to protect; the per-report gate still ran on every page")


def has_register(source: str) -> bool:
    """Whether ``source`` holds a person-level table (the register counts the attack protects come from
    those). A real-data source of published statistics (IMDi) has none, and its files already sum
    under their own rules (editions, restated codes), which the attacker's equations do not model."""
    from settlement_research.catalog import tables
    from settlement_research.model import identifier_columns

    return bool(set(identifier_columns()) & set(tables(source)))


def audit_batch(out_dir: Path, manifest: dict[str, Any], *, t: int | None = None) -> SetAudit | None:
    """After a batch: attack the whole publication set — every rendered report's results.json in
    ``out_dir`` plus the national series — and withhold (files deleted, entry failed with
    :data:`WITHHELD`) every report holding a hidden cell the attacker pins, proves below ``t`` or
    narrows below ``t - 1``. ``None`` when the batch publishes no settled series (not a profile).
    Adds ``manifest["set_audit"]``."""
    t = threshold() if t is None else t
    entries = [e for e in manifest.get("reports", []) if e.get("status") == "ok" and e.get("results_file")]
    loaded = []
    for entry in entries:
        path = out_dir / entry["results_file"]
        if path.is_file():
            results = json.loads(path.read_text("utf-8"))
            if "settled_by_year" in results and "kommune_nr" in results:
                loaded.append((entry, results))
    if not loaded:
        return None
    first = loaded[0][1]
    source, years = first.get("source"), (int(first["first_year"]), int(first["last_year"]))
    if any((r.get("source"), int(r["first_year"]), int(r["last_year"])) != (source, *years) for _, r in loaded):
        raise ValueError("audit_batch: the reports of one batch show different sources or windows")
    if not has_register(str(source)):
        manifest["set_audit"] = {"ok": True, "skipped": NO_REGISTER.format(source=source),
                                 "withheld": []}
        return None
    national = national_settled(str(source), *years)
    from settlement_research.reports.batch import kommune_codes

    complete = set(kommune_codes(str(source))) <= {str(r["kommune_nr"]) for _, r in loaded}
    pub = settled_publication([r for _, r in loaded], national, complete=complete)
    try:
        audit = audit_publication(pub, t=t)
    except ValueError as exc:  # the published numbers contradict each other: nothing can be certified
        for entry, _ in loaded:
            _withhold(out_dir, entry, f"whole-set disclosure audit could not run ({exc}); outputs withheld")
        manifest["set_audit"] = {"ok": False, "error": str(exc), "withheld": [e["name"] for e, _ in loaded]}
        return None
    exposed = {k[0] for k in [*audit.pinned, *audit.below_threshold, *audit.narrow, *audit.conflicts]}
    withheld = []
    for entry, results in loaded:
        if str(results["kommune_nr"]) in exposed:
            _withhold(out_dir, entry, WITHHELD)
            withheld.append(entry["name"])
    manifest["set_audit"] = {"hidden": audit.hidden, "lps": audit.lps, "pinned": len(audit.pinned),
                             "below_threshold": len(audit.below_threshold), "narrow": len(audit.narrow),
                             "conflicts": len(audit.conflicts), "complete": complete, "withheld": withheld,
                             "ok": audit.ok}
    return audit


__all__ = ["NO_REGISTER", "WITHHELD", "Publication", "SetAudit", "audit_batch", "audit_publication", "audit_set",
           "has_register", "national_settled",
           "read_results", "settled_publication"]
