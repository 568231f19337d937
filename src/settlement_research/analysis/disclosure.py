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

SUPPRESSED = ":"
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
    out = frame
    for col, m in masks.items():
        hide = pl.Series(f"__hide_{col}", m)
        symbol = f"{col}_symbol"
        old_symbol = pl.col(symbol) if symbol in frame.columns else pl.lit(None, pl.String)
        out = out.with_columns(
            pl.when(hide).then(None).otherwise(pl.col(col)).alias(col),
            pl.when(hide).then(pl.lit(SUPPRESSED)).otherwise(old_symbol).alias(symbol),
        )
    return out


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
    parts = [f'<table class="sdc-table" data-sdc-threshold="{t}">']
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
            else:  # labels (years, codes) and public numbers: no thousands separator
                plain = f"{value:.{float_digits}f}" if isinstance(value, float) and not math.isnan(value) else _fmt(value, float_digits) if isinstance(value, float) else ("" if value is None else str(value))
                text = html_lib.escape(symbol) if value is None and symbol else html_lib.escape(plain)
                cells.append(f"<td>{text}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
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
    "DEFAULT_THRESHOLD", "SUPPRESSED", "Finding", "SdcTable", "check_html", "check_report",
    "check_results", "count_table", "is_disclosive", "person_id_pattern", "safe_count", "suppress",
    "suppression_mask", "threshold", "to_html",
]
