"""Rendering disclosure-controlled tables: every cell says where it came from.

:func:`to_html` is the one way a table from person-level data reaches a page. Each cell of a
controlled column carries ``data-sdc`` (``count``, ``value`` or ``suppressed``); each cell of a
column the models declare public (``model.public_columns``: IMDi's requests and decisions,
population, ...) carries ``data-sdc="public"``, the column it shows (``data-sdc-public``) and, where
the row has no year of its own, the years it covers (``data-sdc-public-years``, ``public_years=``); a text column (a category such as "0", "1", "3+"
moves) is a label, ``data-sdc="label"``; the column headers are ``data-sdc="header"``. Every mark
is signed for this render (``data-sdc-sig``, :mod:`.provenance`), so a template cannot write one by
hand. A number in any other cell that reads as a small count in its column is refused here and
withheld by the gate (:mod:`settlement_research.sdc.audit`): default deny.
"""

from __future__ import annotations

import html as html_lib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from settlement_research.pages.tables import SCROLL_STYLE, format_value, unit_of
from settlement_research.sdc.context import small_count_cells
from settlement_research.sdc.provenance import attrs
from settlement_research.sdc.public import WINDOW_ATTR, window_text
from settlement_research.sdc.rules import SUPPRESSED, is_disclosive, threshold

SDC_ATTR = "data-sdc"
_TITLE = ' title="suppressed (fewer than {t})"'


def _fmt(value: Any, float_digits: int, fixed: bool = False) -> str:
    """Numbers with a narrow no-break space as thousands separator; integral floats as integers,
    except in a column of values (``fixed``: shares, means), where every cell has the same decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and (fixed or not value.is_integer()):
        return f"{value:,.{float_digits}f}".replace(",", "\u202f")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{int(value):,}".replace(",", "\u202f")
    return str(value)


def resolve_public(spec: str) -> str:
    """``"table.column"`` or a bare ``"column"`` -> the declared public column it names; refuses
    anything the models do not declare public."""
    from settlement_research.model import public_columns

    declared = public_columns()
    table, _, column = spec.rpartition(".")
    matches = [f"{t}.{c}" for t, cols in declared.items() for c in cols if c == column and (not table or t == table)]
    if not matches:
        known = ", ".join(f"{t}.{c}" for t, cols in declared.items() for c in cols)
        raise ValueError(f"to_html: {spec!r} is not a column the models declare public (public: {known})")
    return matches[0]


@dataclass
class SdcTable:
    """A rendered disclosure-controlled table; displays itself as HTML in a notebook."""

    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html

    def __repr__(self) -> str:  # the notebook's text/plain twin: no cells outside the signed HTML
        return f"<SdcTable, {self.html.count('<tr>') - 1} rows>"


def _windows(public_years: Mapping[str, Any] | None, public_of: Mapping[str, str],
             height: int) -> dict[str, list[str | None]]:
    """Each public column's window per row, as the mark writes it (``"2009-2014"``)."""
    out: dict[str, list[str | None]] = {}
    for label, years in (public_years or {}).items():
        if label not in public_of:
            raise ValueError(f"to_html: public_years names {label!r}, which is not a public column of this table")
        if isinstance(years, list):
            if len(years) != height:
                raise ValueError(f"to_html: public_years[{label!r}] has {len(years)} entries for {height} rows")
            out[label] = [None if y is None else window_text(y) for y in years]
        else:
            out[label] = [window_text(years)] * height
    return out


def _public_map(public: Mapping[str, str] | Sequence[str] | None) -> dict[str, str]:
    if public is None:
        return {}
    pairs = public.items() if isinstance(public, Mapping) else ((c, c) for c in public)
    return {label: resolve_public(spec) for label, spec in pairs}


def to_html(
    frame: pl.DataFrame,
    *,
    controlled: Sequence[str] | None = None,
    counts: Sequence[str] | None = None,
    public: Mapping[str, str] | Sequence[str] | None = None,
    public_years: Mapping[str, Any] | None = None,
    labels: Sequence[str] = (),
    caption: str | None = None,
    float_digits: int = 1,
    t: int | None = None,
) -> SdcTable:
    """Render a suppressed table.

    ``controlled`` defaults to every column with a ``<col>_symbol`` sibling (the output of
    ``suppress``); of those, ``counts`` (default: the integer columns) are ``data-sdc="count"`` and
    must not hold a count below the threshold, the rest (shares, means) ``data-sdc="value"``.
    ``public``: column labels (or ``{label: "table.column"}``) of declared public statistics, marked
    ``data-sdc="public"``. ``public_years``: for a public column whose numbers cover years the row
    does not name (a window total), ``{label: (first, last)}`` (or a year), or a list with one such
    entry per row (None: the row's own year); written into the mark, and the clean gate allows a
    small number only if it is that window's public value (:mod:`.public`). Text columns (categories such as "0", "1", "3+" moves) and ``labels``
    are ``data-sdc="label"``. Symbol columns fold into their value cells (':' shown, never 0).
    Raises on an unsuppressed small count, and on a label cell that reads as one (default deny).
    """
    t = threshold() if t is None else t
    columns = [c for c in frame.columns if not (c.endswith("_symbol") and c[: -len("_symbol")] in frame.columns)]
    if controlled is None:
        controlled = [c for c in columns if f"{c}_symbol" in frame.columns]
    controlled = set(controlled)
    public_of = _public_map(public)
    windows = _windows(public_years, public_of, frame.height)
    if counts is None:
        counts = [c for c in controlled if frame.schema[c].is_integer()]
    count_cols = set(counts)
    label_cols = set(labels) | {c for c in columns if frame.schema[c] in (pl.String, pl.Categorical)
                                or isinstance(frame.schema[c], pl.Enum)}
    parts = [f'<div class="table-scroll" style="{SCROLL_STYLE}"><table class="sdc-table" data-sdc-threshold="{t}">']
    if caption:
        parts.append(f"<caption>{html_lib.escape(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th {attrs('header', c)}>{html_lib.escape(c)}</th>" for c in columns)
                 + "</tr></thead><tbody>")
    plain: dict[str, list[str]] = {}  # uncontrolled, undeclared numeric columns: judged as a column
    rows: list[list[tuple[str | None, str]]] = []
    for r, row in enumerate(frame.to_dicts()):
        cells: list[tuple[str | None, str]] = []
        for c in columns:
            value = row[c]
            symbol = row.get(f"{c}_symbol")
            if c in controlled:
                if value is None and symbol == SUPPRESSED:
                    cells.append(("suppressed", SUPPRESSED))
                    continue
                kind = "count" if c in count_cols else "value"
                if kind == "count" and isinstance(value, int | float) and is_disclosive(value, t):
                    raise ValueError(f"to_html: column {c!r} holds an unsuppressed count below {t}; call suppress() first")
                cells.append((kind, symbol if value is None and symbol else _fmt(value, float_digits, kind == "value")))
                continue
            # labels (years, codes) as text; public numbers with the one thousands separator
            unit = unit_of(c, frame.schema[c])
            text = symbol if value is None and symbol else format_value(
                value, unit, float_digits if isinstance(value, float) and unit not in ("count", "year", "code") else None)
            if c in public_of:
                window = windows.get(c, [None] * frame.height)[r]
                cells.append((f"public:{public_of[c]}" + (f":{window}" if window else ""), text))
                continue
            if c in label_cols:
                cells.append(("label", text))
                continue
            plain.setdefault(c, []).append(text)
            cells.append((None, text))
        rows.append(cells)
    for c, texts in plain.items():
        if small_count_cells([[x] for x in texts], t):
            raise ValueError(f"to_html: column {c!r} shows a number below {t} that is neither suppressed nor "
                             "declared public; pass it through suppress() or name its public column in public=")
    for cells in rows:
        parts.append("<tr>" + "".join(_cell(kind, text, t) for kind, text in cells) + "</tr>")
    parts.append("</tbody></table></div>")
    return SdcTable("".join(parts))


def _cell(kind: str | None, text: str, t: int) -> str:
    """One ``<td>``: its mark, and for a public cell the column it shows (``data-sdc-public``), which
    the clean-process gate checks the number against (:mod:`.public`)."""
    if kind is None:
        return f"<td>{html_lib.escape(text)}</td>"
    kind, _, column = kind.partition(":")
    column, _, window = column.partition(":")
    extra = f' data-sdc-public="{html_lib.escape(column)}"' if column else ""
    extra += f' {WINDOW_ATTR}="{html_lib.escape(window)}"' if window else ""
    extra += _TITLE.format(t=t) if kind == "suppressed" else ""
    return f"<td {attrs(kind, text)}{extra}>{html_lib.escape(text)}</td>"


__all__ = ["SDC_ATTR", "SdcTable", "resolve_public", "to_html"]
