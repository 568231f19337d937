"""One formatting layer for every table on a page.

Rules (Norwegian typography, also readable in English):

* one thousands separator everywhere, the narrow no-break space (U+202F): ``1 368``, never
  ``1,368``, ``1.368`` or a mix of ``6758`` and ``1 368`` in one table;
* years, codes and other labels are text, never numbers: ``2009``, not ``2 009``;
* fixed decimals per unit: counts 0, percentages 1, rates and indices 2, other floats 2;
* column labels are readable and carry their unit; no dtype row, no quoted strings;
* wide tables scroll inside their own box instead of being cut.

Why an own layer and not great-tables: it is not installed, and what pages need is small. Tables
of suppressed counts keep going through the disclosure renderer, which formats its cells with
:func:`format_value` too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from settlement_research.textsafe import escape_html

THIN = "\u202f"  # narrow no-break space: the one thousands separator of every page
DECIMALS = {"count": 0, "percent": 1, "pp": 1, "rate": 2, "index": 2, "ratio": 2, "number": 2, "p": 3}
LABEL_UNITS = frozenset({"year", "code", "label"})
_CODE_COLUMNS = frozenset({"kommune_nr", "fylke_nr", "code", "nr", "seed"})
SCROLL_STYLE = "overflow-x:auto;max-width:100%"
TABLE_CSS = ("border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:.92em")


def is_year_column(name: str) -> bool:
    """A column holding years (labels, never formatted as numbers)."""
    low = name.lower().strip()
    return low in {"year", "år", "from", "to", "valid_from", "valid_to"} or low.endswith(("_year", " year")) \
        or low.startswith(("year ", "year_", "år ")) or (low.isdigit() and len(low) == 4)


def unit_of(name: str, dtype: pl.DataType | None = None) -> str:
    """The unit a column is formatted in, from its name (and dtype): year, code, label, count,
    percent, rate, index or number."""
    low = name.lower()
    if is_year_column(name):
        return "year"
    if low in _CODE_COLUMNS or low.endswith(("_nr", " code", "_code", "sha256")) or low == "kode":
        return "code"
    if dtype is not None and not dtype.is_numeric():
        return "label"
    if low.endswith(("%", "share", "_pct", "percent")) or ", %" in low or "(%)" in low:
        return "percent"
    if "p_value" in low or low in {"p", "p adjusted", "p_adjusted", "p_holm", "p_bh"}:
        return "p"
    if "index" in low:
        return "index"
    if "per " in low or "_per_" in low or "rate" in low or "ratio" in low or "throughput" in low:
        return "rate"
    if dtype is not None and dtype.is_integer():
        return "count"
    return "number"


def format_value(value: Any, unit: str = "number", digits: int | None = None) -> str:
    """One cell as text: ``None``/NaN empty, labels as they are, numbers with fixed decimals and
    the narrow no-break space as thousands separator."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if unit in LABEL_UNITS or not isinstance(value, int | float):
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if unit == "p" and isinstance(value, float) and digits is None and math.isfinite(value):
        # as papers print p-values (analysis.plan.format_p): never "0.000", which reads as zero
        if value < 0.001:
            return "<0.001"
        if value > 0.999:
            return ">0.999"
    places = DECIMALS.get(unit, 2) if digits is None else digits
    if unit == "count" and isinstance(value, float) and not value.is_integer() and digits is None:
        places = 1
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    text = f"{value:,.{places}f}".replace(",", THIN)
    if text.startswith("-") and not text.strip("-0.").replace(THIN, ""):
        text = text[1:]  # -0.001 at two decimals is 0.00, not "−0.00"
    return text.replace("-", "\u2212", 1) if text.startswith("-") else text


# Headers for the statistics columns model tables share (other columns: the name with '_' as spaces).
DEFAULT_LABELS = {"ci_low": "CI low", "ci_high": "CI high", "std_error": "std. error", "p_value": "p",
                  "p_holm": "p (Holm)", "p_bh": "p (BH)", "n_obs": "n", "n_clusters": "clusters"}


@dataclass(frozen=True)
class PageTable:
    """An HTML table for a page (Jupyter shows it through ``_repr_html_``)."""

    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html


def html_table(
    frame: pl.DataFrame | Any,
    *,
    caption: str | None = None,
    labels: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    digits: int | Mapping[str, int] | None = None,
    max_rows: int | None = 200,
    lineage: Any = None,
) -> PageTable:
    """``frame`` as a publishable table: labels (default: the column name with '_' as spaces),
    per-column units (default: :func:`unit_of`), numbers right-aligned, every text escaped, in a
    box that scrolls horizontally. More than ``max_rows`` rows are cut with a note saying so.

    ``lineage``: ``(page_lineage, name, cells)`` (``pages.lineage``) gives every number a hover with
    its origin and lists it in the page's NAME.lineage.json."""
    if not isinstance(frame, pl.DataFrame):
        frame = pl.from_pandas(frame) if hasattr(frame, "to_dict") and hasattr(frame, "columns") else pl.DataFrame(frame)
    labels = {**{c: DEFAULT_LABELS[c] for c in frame.columns if c in DEFAULT_LABELS}, **dict(labels or {})}
    units = dict(units or {})
    cols = frame.columns
    unit = {c: units.get(c) or unit_of(c, frame.schema[c]) for c in cols}
    places = {c: (digits.get(c) if isinstance(digits, Mapping) else digits) for c in cols}
    # one column, one number of decimals: a count column of floats (a median of persons) is shown
    # with 0 like every count, never "1 061" beside "2 692.5"
    places = {c: 0 if p is None and unit[c] == "count" and frame.schema[c].is_float() else p for c, p in places.items()}
    numeric = {c: frame.schema[c].is_numeric() and unit[c] not in LABEL_UNITS for c in cols}
    head = "".join(
        f'<th scope="col" style="text-align:{"right" if numeric[c] else "left"};padding:.25em .6em;'
        f'border-bottom:1px solid #444">{escape_html(labels.get(c, c.replace("_", " ")))}</th>' for c in cols)
    shown = frame if max_rows is None else frame.head(max_rows)
    rows = []
    for row in shown.iter_rows():
        cells = "".join(
            f'<td style="text-align:{"right" if numeric[c] else "left"};padding:.2em .6em;'
            f'border-bottom:1px solid #ddd;white-space:nowrap">{escape_html(format_value(v, unit[c], places[c]))}</td>'
            for c, v in zip(cols, row, strict=True))
        rows.append(f"<tr>{cells}</tr>")
    cap = f'<caption style="text-align:left;font-weight:600;padding:.3em 0">{escape_html(caption)}</caption>' if caption else ""
    note = ""
    if max_rows is not None and frame.height > max_rows:
        note = f'<p class="table-note">First {max_rows} of {format_value(frame.height, "count")} rows.</p>'
    html = (f'<div class="table-scroll" style="{SCROLL_STYLE}"><table class="page-table" style="{TABLE_CSS}">'
            f"{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>{note}")
    if lineage is not None:
        page, name, cells = lineage
        html = str(page.table(html, shown, name, cells, columns=shown.columns))
    return PageTable(html)


def publish(frame: pl.DataFrame | Any, **kwargs: Any) -> PageTable:
    """Shorthand for :func:`html_table` in notebooks: ``display(publish(frame, caption=...))``."""
    return html_table(frame, **kwargs)


__all__ = ["THIN", "PageTable", "format_value", "html_table", "is_year_column", "publish", "unit_of"]
