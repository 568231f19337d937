"""Statistical disclosure control: the one gate every table and figure from person-level data passes.

The person-level tables (person, household, settlement, housing_spell, intro_spell, outcome_year)
are register data. Anything a report shows from them goes through :func:`suppress` (counts) and is
rendered with :func:`to_html`, which marks every controlled cell with a ``data-sdc`` attribute so
that :func:`check_html` can verify the rendered page afterwards, independently of the code that made
it. Figures are drawn from the *suppressed* frame, so a suppressed bar is simply missing.

Choices (documented because they are policy, not code):

- **Threshold**: ``SETTLEMENT_RESEARCH_SDC_THRESHOLD`` (default 5, common research practice on
  register data; SSB's own publications use 3). A count ``n`` is disclosive when ``0 < n < t``.
- **Zero is shown.** A zero reveals no individual (there is nobody to identify) and suppressing
  zeros would blank most small-municipality tables for no gain. Structural zeros in a row or column
  can still let a reader recover a suppressed cell from a total; secondary suppression handles that
  because it treats shown zeros like any other shown cell.
- **Secondary suppression**: a row or column (within the groups given by ``by``) with exactly one
  suppressed cell would let the cell be recovered from the row/column total, so the smallest other
  shown cell there is suppressed too (non-zero cells first), repeated until nothing changes.
- Suppressed cells become null with ``<col>_symbol = ':'`` (SSB's symbol for confidential), never 0.
- **Person identifiers** never appear: :func:`check_html` / :func:`check_results` look for the
  pattern in ``SETTLEMENT_RESEARCH_PERSON_ID_PATTERN`` (default ``\\bP\\d{4,}\\b``, the synthetic
  register's ``P`` + digits).
"""

from __future__ import annotations

import html as html_lib
import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from settlement_research.pages.tables import SCROLL_STYLE, format_value, unit_of

SUPPRESSED = ":"
NOT_AVAILABLE = ".."  # SSB's symbol for "data not available"
DEFAULT_THRESHOLD = 5
THRESHOLD_ENV = "SETTLEMENT_RESEARCH_SDC_THRESHOLD"
PERSON_ID_ENV = "SETTLEMENT_RESEARCH_PERSON_ID_PATTERN"
DEFAULT_PERSON_ID_PATTERN = r"\bP\d{4,}\b"
SDC_ATTR = "data-sdc"
SDC_KEYS = "_sdc"  # results.json: list of keys whose numbers derive from person-level data


def threshold() -> int:
    """The current threshold (env ``SETTLEMENT_RESEARCH_SDC_THRESHOLD``, default 5)."""
    raw = os.environ.get(THRESHOLD_ENV, "").strip()
    if not raw:
        return DEFAULT_THRESHOLD
    value = int(raw)
    if value < 1:
        raise ValueError(f"{THRESHOLD_ENV} must be a positive integer, got {raw!r}")
    return value


def person_id_pattern() -> re.Pattern[str]:
    """The regex a person identifier matches (env ``SETTLEMENT_RESEARCH_PERSON_ID_PATTERN``)."""
    return re.compile(os.environ.get(PERSON_ID_ENV) or DEFAULT_PERSON_ID_PATTERN)


def is_disclosive(value: float | None, t: int | None = None) -> bool:
    """True for a count strictly between 0 and the threshold."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    t = threshold() if t is None else t
    return 0 < value < t


def safe_count(value: float | None, t: int | None = None) -> float | None:
    """A single count as it may be shown: ``None`` (shown as ':') when disclosive."""
    return None if is_disclosive(value, t) else value


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


def _system(values: np.ndarray, mask: np.ndarray, lines: Sequence[Line]) -> dict[str, Any]:
    """The reader's linear system over the suppressed cells: one row per line holding any of them,
    with its rank-truncated thin SVD."""
    flat_mask = np.asarray(mask, bool).ravel() & ~np.isnan(np.asarray(values, dtype=float).ravel())
    unknown = np.flatnonzero(flat_mask)
    position = np.full(flat_mask.size, -1)
    position[unknown] = np.arange(unknown.size)
    rows, used = [], []
    for k, (idx, coef) in enumerate(lines):
        pos = position[idx]
        hit = pos >= 0
        if hit.any():
            row = np.zeros(unknown.size)
            row[pos[hit]] = coef[hit]
            rows.append(row)
            used.append(k)
    system: dict[str, Any] = {"unknown": unknown, "position": position, "lines": used}
    if rows:
        u, s, vt = np.linalg.svd(np.vstack(rows), full_matrices=False)
        rank = int((s > 1e-9 * max(1.0, float(s[0]))).sum())
        system.update(u=u[:, :rank], s=s[:rank], vt=vt[:rank])
    return system


def determined(values: np.ndarray, mask: np.ndarray, lines: Sequence[Line]) -> np.ndarray:
    """Suppressed cells that the public lines pin down exactly (same shape as ``mask``).

    A reader knows every shown cell and every line's total, so the suppressed cells solve a linear
    system; a cell is recovered exactly when its unit vector lies in the row space of that system
    (its projection onto it has length 1). Why not just "two per line": two suppressed cells per
    line can still be undone through a chain of lines (a bridge in the pattern).
    NaN cells (no data) are not part of any sum.
    """
    values = np.asarray(values, dtype=float)
    out = np.zeros(values.size, bool)
    system = _system(values, mask, lines)
    if "vt" in system:
        out[system["unknown"]] = (system["vt"] ** 2).sum(axis=0) > 1 - 1e-9
    return out.reshape(values.shape)

def protect(
    values: np.ndarray, t: int, lines: Sequence[Line], *, forced: np.ndarray | None = None, audit: bool = True,
) -> np.ndarray:
    """Suppression mask for a whole table whose lines (row and column totals) are public.

    Primary cells (``0 < n < t``) and ``forced`` cells are suppressed; then, until nothing changes,
    a line with exactly one suppressed cell gets its smallest other shown cell suppressed (non-zero
    first), and (``audit``) any suppressed cell still recoverable through a chain of lines gets a
    partner in one of its lines that makes it unrecoverable (a cell no single partner can protect,
    e.g. the only cell of data in a line, is left as it is: :func:`determined` finds it, and the
    caller must hide that line's total). Deterministic: the same table always gives the same
    pattern, which is what lets many reports show slices of it consistently.
    """
    values = np.asarray(values, dtype=float)
    flat = values.ravel()
    shown = ~np.isnan(flat)
    mask = shown & (flat > 0) & (flat < t)
    if forced is not None:
        mask |= np.asarray(forced, bool).ravel() & shown
    by_cell: dict[int, list[np.ndarray]] = {}
    line_ids: dict[int, list[int]] = {}
    line_coef: dict[tuple[int, int], float] = {}
    for k, (idx, coef) in enumerate(lines):
        for i, w in zip(idx.tolist(), coef.tolist(), strict=True):
            by_cell.setdefault(i, []).append(idx)
            line_ids.setdefault(i, []).append(k)
            line_coef[(k, i)] = w

    def close_lines() -> None:
        changed = True
        while changed:
            changed = False
            for idx, _ in lines:
                live = idx[shown[idx]]
                if mask[live].sum() == 1:
                    j = _smallest(flat[live], ~mask[live])
                    if j is not None:
                        mask[live[j]] = changed = True

    close_lines()
    hopeless: set[int] = set()  # exposed cells no single partner can protect
    while audit:
        system = _system(values, mask.reshape(values.shape), lines)
        if "vt" not in system:
            break
        exposed = [int(c) for c in system["unknown"][(system["vt"] ** 2).sum(axis=0) > 1 - 1e-9]
                   if int(c) not in hopeless]
        if not exposed:
            break
        cell = exposed[0]
        u, s_, vt = system["u"], system["s"], system["vt"]
        y0 = u @ (vt[:, system["position"][cell]] / s_)  # the combination of lines that gives the cell
        row_of_line = {k: i for i, k in enumerate(system["lines"])}
        chosen = None
        for c in sorted({int(c) for idx in by_cell.get(cell, []) for c in idx if shown[c] and not mask[c]},
                        key=lambda c: (flat[c] == 0, flat[c], c)):
            # Hiding c helps when its column lies in the system's column space (else the reader can
            # cancel it) and the combination of lines that gave the cell involves it.
            a = np.zeros(len(system["lines"]))
            outside = False
            for k in line_ids.get(c, []):
                if k in row_of_line:
                    a[row_of_line[k]] = line_coef[(k, c)]
                else:
                    outside = True
            if outside or abs(y0 @ a) < 1e-9 or np.linalg.norm(a - u @ (u.T @ a)) > 1e-9:
                continue
            chosen = c
            break
        if chosen is None:  # e.g. the only cell of data in a line: left to the caller
            hopeless.add(cell)
            continue
        mask[chosen] = True
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
        total = m.shape[1] - 1 if name in window_totals else None
        return margin_lines(*m.shape, total_column=total,
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


# --------------------------------------------------------------------------------------- rendering


def _fmt(value: Any, float_digits: int) -> str:
    """Numbers with a narrow no-break space as thousands separator; integral floats as integers."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.{float_digits}f}".replace(",", "\u202f")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{int(value):,}".replace(",", "\u202f")
    return str(value)


@dataclass
class SdcTable:
    """A rendered disclosure-controlled table; displays itself as HTML in a notebook."""

    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html


def to_html(
    frame: pl.DataFrame,
    *,
    controlled: Sequence[str] | None = None,
    counts: Sequence[str] | None = None,
    caption: str | None = None,
    float_digits: int = 1,
    t: int | None = None,
) -> SdcTable:
    """Render a suppressed table; cells of ``controlled`` columns carry ``data-sdc``.

    ``controlled`` defaults to every column with a ``<col>_symbol`` sibling (the output of
    :func:`suppress`); of those, ``counts`` (default: the integer columns) are marked
    ``data-sdc="count"`` and checked against the threshold, the rest (shares, means of a
    suppressed group) ``data-sdc="value"``. Symbol columns are folded into their value cells (':'
    shown, never 0). Refuses to render an unsuppressed disclosive count, so a forgotten
    :func:`suppress` fails loudly.
    """
    t = threshold() if t is None else t
    columns = [c for c in frame.columns if not (c.endswith("_symbol") and c[: -len("_symbol")] in frame.columns)]
    if controlled is None:
        controlled = [c for c in columns if f"{c}_symbol" in frame.columns]
    controlled = set(controlled)
    if counts is None:
        counts = [c for c in controlled if frame.schema[c].is_integer()]
    count_cols = set(counts)
    parts = [f'<div class="table-scroll" style="{SCROLL_STYLE}"><table class="sdc-table" data-sdc-threshold="{t}">']
    if caption:
        parts.append(f"<caption>{html_lib.escape(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{html_lib.escape(c)}</th>" for c in columns) + "</tr></thead><tbody>")
    rows = frame.to_dicts()
    for row in rows:
        cells = []
        for c in columns:
            value = row[c]
            symbol = row.get(f"{c}_symbol")
            if c in controlled:
                if value is None and symbol == SUPPRESSED:
                    cells.append(f'<td {SDC_ATTR}="suppressed" title="suppressed (fewer than {t})">{SUPPRESSED}</td>')
                    continue
                kind = "count" if c in count_cols else "value"
                if kind == "count" and isinstance(value, int | float) and is_disclosive(value, t):
                    raise ValueError(f"to_html: column {c!r} holds an unsuppressed count below {t}; call suppress() first")
                text = html_lib.escape(symbol) if value is None and symbol else _fmt(value, float_digits)
                cells.append(f'<td {SDC_ATTR}="{kind}">{text}</td>')
            else:  # labels (years, codes) as text; public numbers with the one thousands separator
                unit = unit_of(c, frame.schema[c])
                plain = format_value(value, unit, float_digits if isinstance(value, float) and unit not in ("count", "year", "code") else None)
                text = html_lib.escape(symbol) if value is None and symbol else html_lib.escape(plain)
                cells.append(f"<td>{text}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table></div>")
    return SdcTable("".join(parts))


# ----------------------------------------------------------------------------------------- checking


@dataclass
class Finding:
    """One disclosure problem in a rendered report. Never carries the disclosive value itself."""

    kind: str  # person_id | small_count | unreadable_cell
    where: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def _parse_number(text: str) -> float | None:
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text)
    if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", cleaned):
        cleaned = cleaned.replace(",", "")
    if not _NUMBER.match(cleaned):
        return None
    return float(cleaned.replace(",", "."))


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.cells: list[tuple[str, str, int]] = []  # (kind, text, index)
        self._open: list[list[Any]] = []  # [tag, depth, kind, chunks]
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for _name, value in attrs:
            if value and not value.startswith("data:"):
                self.texts.append(value)
        if tag == "style":
            self._skip += 1
        for entry in self._open:
            if entry[0] == tag:
                entry[1] += 1
        kind = dict(attrs).get(SDC_ATTR)
        if kind is not None:
            self._open.append([tag, 1, kind, []])

    def handle_endtag(self, tag: str) -> None:
        if tag == "style" and self._skip:
            self._skip -= 1
        for entry in list(self._open):
            if entry[0] == tag:
                entry[1] -= 1
                if entry[1] == 0:
                    self._open.remove(entry)
                    self.cells.append((entry[2] or "", "".join(entry[3]), len(self.cells)))

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.texts.append(data)
        for entry in self._open:
            entry[3].append(data)


def check_html(html: str, *, t: int | None = None, pattern: str | re.Pattern[str] | None = None) -> list[Finding]:
    """Scan a rendered page: person identifiers anywhere in its text or attributes (not inside
    ``data:`` URIs or CSS), and counts below the threshold in ``data-sdc`` cells."""
    t = threshold() if t is None else t
    regex = person_id_pattern() if pattern is None else re.compile(pattern)
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    findings: list[Finding] = []
    hits = sum(len(regex.findall(text)) for text in scanner.texts)
    if hits:
        findings.append(Finding("person_id", "html", f"{hits} person identifier(s) matching {regex.pattern!r} in the page"))
    for kind, text, index in scanner.cells:
        stripped = text.strip()
        if kind == "suppressed":
            if stripped != SUPPRESSED:
                findings.append(Finding("unreadable_cell", f"html data-sdc cell #{index}", "a cell marked suppressed does not show ':'"))
            continue
        if kind != "count" or stripped in ("", SUPPRESSED, ".", "..", "...", "-"):
            continue  # "value" cells (shares, means) are only checked for the suppressed symbol
        number = _parse_number(stripped)
        if number is None:
            findings.append(Finding("unreadable_cell", f"html data-sdc cell #{index}", "a disclosure-controlled cell is not a number"))
        elif 0 < number < t:
            findings.append(Finding("small_count", f"html data-sdc cell #{index}", f"unsuppressed count below the threshold {t}"))
    return findings


def _walk(obj: Any, path: str) -> Iterable[tuple[str, Any]]:
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            yield f"{path}.{key}", key
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            yield from _walk(value, f"{path}[{i}]")
    else:
        yield path, obj


def check_results(results: Mapping[str, Any], *, t: int | None = None, pattern: str | re.Pattern[str] | None = None) -> list[Finding]:
    """Scan a results.json dict: person identifiers in any key or string, and numbers below the
    threshold under the keys listed in ``results['_sdc']`` (person-level counts)."""
    t = threshold() if t is None else t
    regex = person_id_pattern() if pattern is None else re.compile(pattern)
    findings: list[Finding] = []
    hits = sum(1 for _, v in _walk(results, "results") if isinstance(v, str) and regex.search(v))
    if hits:
        findings.append(Finding("person_id", "results.json", f"{hits} value(s) matching the person identifier pattern"))
    for key in results.get(SDC_KEYS, []) or []:
        for where, value in _walk(results.get(key), f"results.{key}"):
            if isinstance(value, int | float) and not isinstance(value, bool) and is_disclosive(value, t):
                findings.append(Finding("small_count", where, f"unsuppressed count below the threshold {t}"))
    return findings


def check_report(
    html_path: str | Path, results_path: str | Path | None = None, *, t: int | None = None,
    pattern: str | re.Pattern[str] | None = None,
) -> list[Finding]:
    """Check one rendered report (HTML and, when present, its results.json)."""
    findings = check_html(Path(html_path).read_text("utf-8"), t=t, pattern=pattern)
    if results_path is not None and Path(results_path).is_file():
        findings += check_results(json.loads(Path(results_path).read_text("utf-8")), t=t, pattern=pattern)
    return findings


__all__ = [
    "DEFAULT_THRESHOLD", "SUPPRESSED", "Finding", "Line", "SdcTable", "check_html", "check_report",
    "check_results", "count_table", "determined", "is_disclosive", "margin_lines", "person_id_pattern",
    "protect", "safe_count", "suppress", "suppress_panel", "suppression_mask", "threshold", "to_html",
]
