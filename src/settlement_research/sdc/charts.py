"""Charts read before they are published: a hook on matplotlib's one road to an image file.

Why: a PNG is pixels; the gate cannot read an identifier or a "3 persons" drawn into it. Every
matplotlib image — ``fig.savefig`` and the inline backend's display alike — is written by
``FigureCanvasBase.print_figure``. :func:`install` wraps it: once the figure is drawn (its tick
labels hold their text), every visible text artist (titles, axis labels, legend entries,
annotations, ``ax.text``/``fig.text``, tick labels) is looked up for identifier values, and every
one but the tick labels is judged for small counts like prose (:mod:`.context`; an annotation that
is just ``3`` is a count). What it finds is recorded in the render's :mod:`.provenance` scope, with
the digest of every image it wrote; the gate withholds a report with a chart finding, and a report
showing an image that did not come through here (its text was never read).
"""

from __future__ import annotations

import os
from typing import Any

from settlement_research.sdc import provenance

_INSTALLED: dict[str, Any] = {}


def figure_texts(fig: Any) -> tuple[list[str], list[str]]:
    """(tick label texts, every other visible text) of a drawn figure."""
    from matplotlib.text import Text

    ticks: set[int] = set()
    for ax in fig.get_axes():
        for axis in (ax.xaxis, ax.yaxis):
            for which in ("major", "minor"):
                ticks.update(id(label) for label in axis.get_ticklabels(which=which))
    tick_texts, other = [], []
    for artist in fig.findobj(Text):
        text = artist.get_text()
        if not text or not artist.get_visible():
            continue
        (tick_texts if id(artist) in ticks else other).append(text)
    return tick_texts, other


def check_figure(fig: Any, *, t: int | None = None, ids: frozenset[str] | None = None) -> list[tuple[str, str]]:
    """Findings ``(kind, message)`` for the texts of a drawn figure (never the value itself)."""
    from settlement_research.sdc.audit import count_identifiers, identifier_values
    from settlement_research.sdc.context import prose_counts, read_cell
    from settlement_research.sdc.rules import threshold

    t = threshold() if t is None else t
    ids = identifier_values() if ids is None else ids
    tick_texts, other = figure_texts(fig)
    findings: list[tuple[str, str]] = []
    hits = sum(count_identifiers(text, ids) for text in [*tick_texts, *other])
    if hits:
        findings.append(("identifier", f"{hits} identifier value(s) drawn in a chart"))
    small = 0
    for text in other:
        number = read_cell(text.strip())
        small += (number is not None and number.is_integer() and 0 < number < t) or bool(prose_counts(text, t))
    if small:
        findings.append(("small_count", f"{small} chart text(s) showing a number below {t} as a count"))
    return findings


def install() -> None:
    """Wrap ``FigureCanvasBase.print_figure`` once per process (idempotent)."""
    if _INSTALLED:
        return
    from matplotlib.backend_bases import FigureCanvasBase

    original = FigureCanvasBase.print_figure

    def print_figure(self: Any, filename: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, filename, *args, **kwargs)
        try:
            for kind, message in check_figure(self.figure):
                provenance.record_chart_finding(kind, message)
        except Exception as exc:  # a chart the hook cannot read is not a chart it has read
            provenance.record_chart_finding("unchecked_image", f"chart text could not be read ({type(exc).__name__})")
            return result
        if hasattr(filename, "getvalue"):
            provenance.record_image(filename.getvalue())
        elif isinstance(filename, str | os.PathLike) and os.path.isfile(filename):
            with open(filename, "rb") as handle:
                provenance.record_image(handle.read())
        return result

    print_figure.__wrapped__ = original  # type: ignore[attr-defined]
    FigureCanvasBase.print_figure = print_figure  # type: ignore[method-assign]
    _INSTALLED["original"] = original


__all__ = ["check_figure", "figure_texts", "install"]
