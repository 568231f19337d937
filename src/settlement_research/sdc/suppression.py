"""Primary and secondary suppression of counts from person-level data.

:func:`suppress` protects one small table (its row and column totals); :func:`suppress_panel`
protects a long key x year panel that many reports show slices of, as ONE table, with
:func:`protect`: primary cells (``0 < n < t``), then line closing (no line with a single hidden
cell), then a greedy loop over the attacker's linear program (:mod:`settlement_research.sdc.attack`)
that hides a partner cell for every hidden cell still pinned, provably below ``t`` or narrower than
``t - 1``, until none is. Zeros are never hidden (see :mod:`settlement_research.sdc.rules`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from settlement_research.sdc.attack import Equation, intervals
from settlement_research.sdc.rules import NOT_AVAILABLE, SUPPRESSED, threshold


def _smallest(values: np.ndarray, candidates: np.ndarray) -> int | None:
    """Index of the smallest candidate, preferring non-zero cells (a suppressed 0 protects little)."""
    idx = np.flatnonzero(candidates)
    if idx.size == 0:
        return None
    nonzero = idx[values[idx] > 0]
    pool = nonzero if nonzero.size else idx
    return int(pool[np.argmin(values[pool])])


def suppression_mask(
    values: np.ndarray, t: int, *, groups: np.ndarray | None = None, secondary: bool = True
) -> np.ndarray:
    """Boolean mask of cells to suppress in a rows x columns matrix of counts (NaN = not shown).

    Columns are summed over rows within each group (``groups``: one label per row); rows are
    summed over columns.
    """
    values = np.asarray(values, dtype=float)
    shown = ~np.isnan(values)
    mask = shown & (values > 0) & (values < t)
    if not secondary:
        return mask
    n_rows, n_cols = values.shape
    groups = np.zeros(n_rows, dtype=int) if groups is None else np.asarray(groups)
    group_rows = [np.flatnonzero(groups == g) for g in np.unique(groups)] if n_rows else []
    changed = True
    while changed:
        changed = False
        if n_cols >= 2:
            for i in range(n_rows):
                if mask[i].sum() == 1:
                    j = _smallest(values[i], shown[i] & ~mask[i])
                    if j is not None:
                        mask[i, j] = changed = True
        for rows in group_rows:
            if rows.size < 2:
                continue
            for j in range(n_cols):
                if mask[rows, j].sum() == 1:
                    k = _smallest(values[rows, j], shown[rows, j] & ~mask[rows, j])
                    if k is not None:
                        mask[rows[k], j] = changed = True
    return mask


# ------------------------------------------------------------------------ one table across reports

Line = tuple[np.ndarray, np.ndarray]  # flat cell indices of a rows x columns table, coefficients


def margin_lines(
    n_rows: int, n_cols: int, *, row_totals: bool = True, total_column: int | None = None,
    column_groups: Sequence[np.ndarray | None] = (None,),
) -> list[Line]:
    """The public linear relations of a rows x columns table of counts, one :data:`Line` each.

    ``row_totals``: each row's sum is public; with ``total_column`` that column *is* the row total
    (shown or suppressed like any cell), so the line says "the other cells sum to it".
    ``column_groups``: for each entry (an index array of rows, ``None`` = every row) the column sums
    over those rows are public, e.g. the national total per year and, when shown, the county's.
    """
    index = np.arange(n_rows * n_cols).reshape(n_rows, n_cols)
    lines: list[Line] = []
    if row_totals and n_cols >= 2:
        coef = np.ones(n_cols)
        if total_column is not None:
            coef[total_column] = -1.0
        lines += [(index[i], coef) for i in range(n_rows)]
    for rows in column_groups:
        block = index if rows is None else index[np.asarray(rows, dtype=int)]
        if block.shape[0] >= 2:
            lines += [(block[:, j], np.ones(block.shape[0])) for j in range(n_cols)]
    return lines


def table_equations(values: np.ndarray, mask: np.ndarray, lines: Sequence[Line]) -> tuple[np.ndarray, list[Equation]]:
    """The attacker's system for one table: the flat indices of its hidden cells and one
    :class:`Equation` per public line holding any of them (shown cells moved to the right side).
    NaN cells (no data) are part of no sum."""
    flat = np.asarray(values, dtype=float).ravel()
    hidden = np.asarray(mask, bool).ravel() & ~np.isnan(flat)
    unknown = np.flatnonzero(hidden)
    position = np.full(flat.size, -1)
    position[unknown] = np.arange(unknown.size)
    equations = []
    for idx, coef in lines:
        pos = position[idx]
        hit = pos >= 0
        if hit.any():
            equations.append(Equation(pos[hit], coef[hit], float(coef[hit] @ flat[idx[hit]])))
    return unknown, equations


def exposed(values: np.ndarray, mask: np.ndarray, lines: Sequence[Line], t: int) -> np.ndarray:
    """Hidden cells the public lines expose (same shape as ``mask``): pinned, provably below ``t``,
    or with a feasible interval narrower than ``t - 1``. The attacker assumes a hidden cell is at
    least 1 when no hidden cell of the table is 0 (zeros are shown), else at least 0."""
    values = np.asarray(values, dtype=float)
    flat = values.ravel()
    unknown, equations = table_equations(values, mask, lines)
    out = np.zeros(flat.size, bool)
    if unknown.size:
        truth = flat[unknown]
        lower = 1.0 if (truth > 0).all() else 0.0
        found = intervals(unknown.size, equations, lower, t=t, start=truth)
        out[unknown] = found.unsafe(t)
    return out.reshape(values.shape)


def protect(
    values: np.ndarray, t: int, lines: Sequence[Line], *, forced: np.ndarray | None = None, audit: bool = True,
) -> np.ndarray:
    """Suppression mask for a whole table whose lines (row and column totals) are public.

    Primary cells (``0 < n < t``) and ``forced`` cells are hidden; then, until nothing changes, a
    line with exactly one hidden cell gets its smallest other non-zero shown cell hidden, and
    (``audit``) every cell the attacker's LP still exposes (:func:`exposed`) gets the smallest
    non-zero shown cell of one of its lines hidden as a partner. A cell with no possible partner
    (the only data in its lines) stays exposed: :func:`exposed` reports it and the caller must hide
    the line's total. Deterministic: the same table always gives the same pattern, which is what
    lets many reports show slices of it consistently.
    """
    values = np.asarray(values, dtype=float)
    flat = values.ravel()
    shown = ~np.isnan(flat)
    mask = shown & (flat > 0) & (flat < t)
    if forced is not None:
        mask |= np.asarray(forced, bool).ravel() & shown
    lines_of: dict[int, list[np.ndarray]] = {}
    for idx, _ in lines:
        for i in idx.tolist():
            lines_of.setdefault(i, []).append(idx)

    def partner(idx: np.ndarray) -> int | None:
        live = idx[shown[idx] & ~mask[idx] & (flat[idx] > 0)]
        return None if live.size == 0 else int(live[np.argmin(flat[live])])

    def close_lines() -> None:
        # A line whose hidden cells all add (no hidden total in it) tells the attacker their sum S;
        # with h of them, each is at most S - (h - 1). Hide partners until S >= t + h - 1 (then no
        # cell is provably below t from this line alone) and never leave one hidden cell alone.
        changed = True
        while changed:
            changed = False
            for idx, coef in lines:
                live = idx[shown[idx]]
                hidden = mask[live]
                h = int(hidden.sum())
                if h == 0:
                    continue
                adds = (coef[shown[idx]][hidden] > 0).all()
                if h == 1 or (adds and flat[live][hidden].sum() < t + h - 1):
                    j = partner(idx)
                    if j is not None:
                        mask[j] = changed = True

    close_lines()
    hopeless: set[int] = set()
    while audit:
        bad = [int(c) for c in np.flatnonzero(exposed(values, mask.reshape(values.shape), lines, t))
               if int(c) not in hopeless]
        if not bad:
            break
        for cell in bad:
            options = [p for p in (partner(idx) for idx in lines_of.get(cell, [])) if p is not None]
            if not options:
                hopeless.add(cell)
                continue
            mask[min(options, key=lambda c: (flat[c], c))] = True
        close_lines()
    return mask.reshape(values.shape)



def suppress(
    frame: pl.DataFrame,
    counts: Sequence[str],
    *,
    by: Sequence[str] = (),
    dependent: Mapping[str, str] | None = None,
    t: int | None = None,
    secondary: bool = True,
) -> pl.DataFrame:
    """Primary and secondary suppression of the ``counts`` columns of a table from person-level data.

    ``by``: columns whose value combinations form separate tables for the column totals (e.g. a
    long table with one block per year). ``dependent``: ``{column: count_column}`` — columns derived
    from a count (shares, means) that are suppressed with it. Suppressed cells are null and carry
    ``':'`` in ``<col>_symbol``.
    """
    t = threshold() if t is None else t
    counts = list(counts)
    missing = [c for c in [*counts, *by, *(dependent or {})] if c not in frame.columns]
    if missing:
        raise KeyError(f"suppress: no column(s) {missing} in the table")
    if not counts or frame.height == 0:
        return frame
    values = frame.select(pl.col(c).cast(pl.Float64) for c in counts).to_numpy()
    groups = None
    if by:
        groups = frame.select(pl.struct(list(by)).rank("dense")).to_series().to_numpy()
    mask = suppression_mask(values, t, groups=groups, secondary=secondary)
    masks = {c: mask[:, j] for j, c in enumerate(counts)}
    for col, base in (dependent or {}).items():
        if base not in masks:
            raise KeyError(f"suppress: dependent column {col!r} refers to {base!r}, not a count")
        masks[col] = masks.get(col, np.zeros(frame.height, bool)) | masks[base]
    return _hide(frame, masks)


def _hide(frame: pl.DataFrame, masks: Mapping[str, np.ndarray]) -> pl.DataFrame:
    """Null the masked cells of each column and mark them ':' in ``<col>_symbol``."""
    out = frame
    for col, m in masks.items():
        hide = pl.Series(f"__hide_{col}", m)
        symbol = f"{col}_symbol"
        old_symbol = pl.col(symbol) if symbol in out.columns else pl.lit(None, pl.String)
        out = out.with_columns(
            pl.when(hide).then(None).otherwise(pl.col(col)).alias(col),
            pl.when(hide).then(pl.lit(SUPPRESSED)).otherwise(old_symbol).alias(symbol),
        )
    return out


def suppress_panel(
    frame: pl.DataFrame,
    counts: Sequence[str],
    *,
    years: Sequence[int],
    key: str = "kommune_nr",
    groups: Mapping[str, str] | None = None,
    window_totals: Sequence[str] = (),
    group_totals: Sequence[str] = (),
    tied: Sequence[Sequence[str]] = (),
    published: Sequence[str] | None = None,
    row_totals: Sequence[str] | None = None,
    dependent: Mapping[str, str | Sequence[str]] | None = None,
    t: int | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Suppress a long ``key`` x year panel of counts as ONE table, for a set of reports that each
    show a slice of it.

    Why: a report per municipality that suppresses only its own rows can be undone by the others
    and the public national total per year (the column total), and secondary cells chosen in one
    report can be recovered from another. Here every count is a ``key`` x ``years`` matrix (no row =
    no data, NaN) whose column totals are public (nationally, and within ``groups`` — key -> group,
    e.g. county — for the counts in ``group_totals``) and whose row totals are public; for the
    counts in ``window_totals`` the row total is itself shown, as an extra column that is suppressed
    like any cell. :func:`protect` makes the pattern (primary, secondary, audit). Counts in one
    ``tied`` set are hidden in the same cells (a count and its complement behind one shown share).
    ``published`` (default: every count) names the counts whose totals are published in some form;
    for the others no total exists to attack, so only primary suppression applies. ``row_totals``
    (default: every count) names the counts whose per-``key`` totals over the years are public.

    Returns the panel with suppressed counts and ``dependent`` columns (``{column: count or
    counts}``) null and ``':'`` in ``<col>_symbol``, and one row per ``key`` with each window total
    (null, ``':'`` when suppressed, ``'..'`` when no year is known) and ``<count>_known_years``.
    """
    t = threshold() if t is None else t
    counts = list(counts)
    missing = [c for c in [key, "year", *counts, *(dependent or {})] if c not in frame.columns]
    if missing:
        raise KeyError(f"suppress_panel: no column(s) {missing} in the table")
    years = [int(y) for y in years]
    keys = sorted(frame[key].drop_nulls().unique().to_list())
    row_of = {k: i for i, k in enumerate(keys)}
    col_of = {y: j for j, y in enumerate(years)}
    inside = frame.filter(pl.col("year").is_in(years) & pl.col(key).is_not_null())
    r = np.array([row_of[k] for k in inside[key].to_list()], dtype=int)
    c = np.array([col_of[int(y)] for y in inside["year"].to_list()], dtype=int)
    matrices: dict[str, np.ndarray] = {}
    for name in counts:
        m = np.full((len(keys), len(years)), np.nan)
        m[r, c] = inside[name].cast(pl.Float64).fill_null(float("nan")).to_numpy()
        if name in window_totals:
            known = ~np.isnan(m).all(axis=1)
            m = np.hstack([m, np.where(known, np.nansum(m, axis=1), np.nan)[:, None]])
        matrices[name] = m
    column_groups: list[np.ndarray | None] = [None]
    if groups is not None:
        labels = np.array([groups.get(k, str(k)[:2]) for k in keys], dtype=object)
        column_groups += [np.flatnonzero(labels == g) for g in sorted(set(labels.tolist()))]

    def lines_for(name: str) -> list[Line]:
        m = matrices[name]
        if published is not None and name not in published:
            return []  # no total of this count is published anywhere: primary suppression suffices
        total = m.shape[1] - 1 if name in window_totals else None
        rows = row_totals is None or name in row_totals or name in window_totals
        return margin_lines(*m.shape, total_column=total, row_totals=rows,
                            column_groups=column_groups if name in group_totals else [None])

    masks = {name: protect(matrices[name], t, lines_for(name)) for name in counts}
    for names in tied:  # hide a tied set in the union of its cells, until no member adds another
        names = [n for n in names if n in masks]
        while True:
            union = np.logical_or.reduce([masks[n][:, : len(years)] for n in names])
            if all((masks[n][:, : len(years)] == union).all() for n in names):
                break
            for n in names:
                forced = np.zeros_like(masks[n])
                forced[:, : len(years)] = union
                masks[n] = protect(matrices[n], t, lines_for(n), forced=forced | masks[n])

    cell_mask = {name: m[r, c] for name, m in masks.items()}
    for col, bases in (dependent or {}).items():
        bases = [bases] if isinstance(bases, str) else list(bases)
        unknown = [b for b in bases if b not in cell_mask]
        if unknown:
            raise KeyError(f"suppress_panel: dependent column {col!r} refers to {unknown}, not counts")
        cell_mask[col] = np.logical_or.reduce([cell_mask.get(col, np.zeros(r.size, bool)), *(cell_mask[b] for b in bases)])
    out = _hide(inside, cell_mask)
    window: dict[str, Any] = {key: keys}
    for name in window_totals:
        m, hidden = matrices[name], masks[name]
        known = (~np.isnan(m[:, : len(years)])).sum(axis=1)
        total = m[:, -1]
        window[name] = [None if (k == 0 or h) else int(v) for v, h, k in zip(total, hidden[:, -1], known, strict=True)]
        window[f"{name}_symbol"] = [NOT_AVAILABLE if k == 0 else SUPPRESSED if h else None
                                    for h, k in zip(hidden[:, -1], known, strict=True)]
        window[f"{name}_known_years"] = known.astype(int).tolist()
    totals = pl.DataFrame(window, schema_overrides={key: frame.schema[key]}) if keys else pl.DataFrame(
        schema={key: frame.schema[key]})
    return out, totals


def count_table(
    persons: pl.DataFrame, rows: str | Sequence[str], columns: str | None = None, *,
    t: int | None = None, by: Sequence[str] = (),
) -> pl.DataFrame:
    """Count persons by ``rows`` (and ``columns``, pivoted wide) and suppress the result.

    The usual path from a person-level frame to a shown table in one call.
    """
    rows = [rows] if isinstance(rows, str) else list(rows)
    if columns is None:
        counted = persons.group_by(rows).len("n").sort(rows)
        return suppress(counted, ["n"], by=by, t=t)
    counted = persons.group_by([*rows, columns]).len("n")
    wide = counted.pivot(on=columns, index=rows, values="n").sort(rows)
    value_cols = [c for c in wide.columns if c not in rows]
    wide = wide.with_columns(pl.col(value_cols).fill_null(0))
    return suppress(wide, value_cols, by=by, t=t)




__all__ = [
    "Line", "count_table", "exposed", "margin_lines", "protect", "suppress", "suppress_panel", "suppression_mask",
    "table_equations",
]
