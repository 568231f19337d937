"""Charts are published as SVG whose text is text, so the clean gate reads every chart itself.

Why: a PNG is pixels. Its text ("3 persons", an identifier in a title) could be read only by a hook
in the renderer's process, and template code runs there: it can forge what that hook reports (the
known limit of session 4). So charts are drawn as SVG with ``svg.fonttype = 'none'``
(:func:`settlement_research.analysis.plots.set_theme`, the worker's defaults in
``reports.runner``): every title, axis label, tick label, legend entry and annotation is a
``<text>`` element, and :func:`check_svg` reads them in the process that decides
(:mod:`.gate`), with the rule the hook uses (:func:`judge`):

- identifiers in every text (tick labels too);
- a small count in every text but tick labels: a bare ``3`` (an annotation on a bar) or a number
  in a counting context ("3 persons"); tick labels are an axis's scale, judged for counting
  context only — when they are one: at least three numeric labels of an axis, linear (or
  log-linear) in their place along it (:func:`off_scale_ticks`); a category's label ``3`` is not;
- identifiers also in texts placed side by side on one line, joined (:func:`side_by_side`).

An image whose text the gate cannot read is refused (:func:`unreadable`): a raster image (PNG,
JPEG, GIF, WebP: in a notebook output, a ``data:`` URI or an ``<img>``), an SVG that draws its
text as glyph paths (matplotlib's ``svg.fonttype = 'path'`` writes ``<use xlink:href="#DejaVuSans-33">``),
an SVG ``<image>`` and anything an image loads from elsewhere.

What remains unaudited, and cannot be audited from an image: **geometry**. The height of a bar, the
position of a point, the length of a line are the data, and a template can draw a small count as a
bar of height 3 against a labelled axis, or draw digits as shapes (a path that looks like a "3" but
is not text, pieces of text placed side by side). The gate reads what an image writes, not what it
draws; the disclosure API (suppressed counts drawn as placeholders, ``plots.count_bars``) is what
keeps drawn counts safe, and templates are reviewed code.

The hook (:func:`install`) still reads every figure matplotlib writes in the renderer's process and
records what it finds in the render's :mod:`.provenance` scope; the parent uses those findings only
to add to its own (a template can silence the hook, never the parent).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from settlement_research.sdc import provenance

_INSTALLED: dict[str, Any] = {}
RASTER_MIMES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/tiff", "image/avif")
_TICK_GROUP = re.compile(r"^[xy]tick_\d+$")  # matplotlib's group of one tick (line and label)
_GLYPH_ID = re.compile(r"^#?[^#\s]+-[0-9a-fA-F]+$")  # matplotlib's glyph ids: "DejaVuSans-33", "DejaVuSans-Bold-1a"
_TEXT_TAGS = frozenset({"text", "title", "desc"})
_HIDDEN_TAGS = frozenset({"style", "script"})
_EMBEDDING_TAGS = frozenset({"image", "feimage", "img", "iframe", "object", "embed", "video", "canvas", "picture"})


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


def judge(tick_texts: Iterable[str], other: Iterable[str], *, t: int, ids: frozenset[str]) -> list[tuple[str, str]]:
    """Findings ``(kind, message)`` for a chart's texts (never the value itself): identifiers in
    any text; a small count in any text but a tick label (a bare number or a counting context),
    and a counting context in a tick label."""
    from settlement_research.sdc.audit import count_identifiers
    from settlement_research.sdc.context import prose_counts, read_cell

    tick_texts, other = list(tick_texts), list(other)
    findings: list[tuple[str, str]] = []
    hits = sum(count_identifiers(text, ids) for text in [*tick_texts, *other])
    if hits:
        findings.append(("identifier", f"{hits} identifier value(s) drawn in a chart"))
    small = sum(1 for text in tick_texts if prose_counts(text, t))
    for text in other:
        number = read_cell(text.strip())
        small += (number is not None and number.is_integer() and 0 < number < t) or bool(prose_counts(text, t))
    if small:
        findings.append(("small_count", f"{small} chart text(s) showing a number below {t} as a count"))
    return findings


def check_figure(fig: Any, *, t: int | None = None, ids: frozenset[str] | None = None) -> list[tuple[str, str]]:
    """Findings ``(kind, message)`` for the texts of a drawn figure (the hook's reading)."""
    from settlement_research.sdc.audit import identifier_values
    from settlement_research.sdc.rules import threshold

    tick_texts, other = figure_texts(fig)
    return judge(tick_texts, other, t=threshold() if t is None else t, ids=identifier_values() if ids is None else ids)


# ------------------------------------------------------------------------------------- SVG, read


@dataclass
class SvgReading:
    """What an SVG shows as text, and what in it cannot be read."""

    ticks: list[str] = field(default_factory=list)  # tick labels (in a matplotlib ``xtick_N``/``ytick_N`` group)
    # each tick label with its axis (the enclosing ``matplotlib.axis_N`` group and x/y) and its place along it
    tick_places: list[tuple[str, float | None, str]] = field(default_factory=list)
    placed: list[tuple[float | None, float | None, str]] = field(default_factory=list)  # every text with its x, y
    other: list[str] = field(default_factory=list)  # every other text: titles, labels, legend, annotations
    glyphs: int = 0  # <use> of a glyph path: text drawn as shapes (svg.fonttype 'path')
    embedded: int = 0  # <image>, or a reference to a resource outside the SVG


class _SvgReader(HTMLParser):
    """Lenient (a template may write any markup): tags and attribute names come lower-cased."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.reading = SvgReading()
        # (tag, axis of the tick group it is in, axis group, offset of its translate()s or None: another transform)
        self._stack: list[tuple[str, str | None, str, tuple[float, float] | None]] = []
        self._place: tuple[float | None, float | None] = (None, None)
        self._axis: str | None = None
        self._text: list[str] | None = None  # the chunks of the outermost text element being read
        self._text_depth = 0
        self._text_tick = False
        self._hidden = 0

    def _in_tick(self) -> str | None:
        return self._stack[-1][1] if self._stack else None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in _EMBEDDING_TAGS:
            self.reading.embedded += 1
        else:
            for name in ("href", "xlink:href", "src"):
                ref = (values.get(name) or "").strip()
                if not ref:
                    continue
                if tag == "use" and ref.startswith("#"):
                    self.reading.glyphs += bool(_GLYPH_ID.match(ref))
                elif tag != "a":  # a link shows nothing itself; anything else loads what the gate does not read
                    self.reading.embedded += 1
        group = self._stack[-1][2] if self._stack else ""
        if tag == "g" and (values.get("id") or "").startswith("matplotlib.axis"):
            group = values.get("id") or ""
        tick = self._in_tick()
        if tick is None and tag == "g" and _TICK_GROUP.match(values.get("id") or ""):
            tick = f"{group}:{(values.get('id') or 'x')[0]}"
        offset = self._stack[-1][3] if self._stack else (0.0, 0.0)
        if values.get("transform") and offset is not None:
            offset = _translated(offset, values.get("transform") or "")
        self._stack.append((tag, tick, group, offset))
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        if tag in _TEXT_TAGS:
            if self._text is None:
                self._text, self._text_tick = [], bool(tick) and tag == "text"
                x, y = _coordinate(values.get("x")), _coordinate(values.get("y"))
                if offset is not None and tag == "text":  # placed by its groups' translate() (mathtext)
                    x, y = offset[0] + (x or 0.0), offset[1] + (y or 0.0)
                self._place, self._axis = (x, y), tick
            self._text_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if not any(entry[0] == tag for entry in self._stack):
            return  # a stray end tag
        while self._stack:
            open_tag = self._stack.pop()[0]
            if open_tag in _HIDDEN_TAGS and self._hidden:
                self._hidden -= 1
            if open_tag in _TEXT_TAGS and self._text_depth:
                self._text_depth -= 1
                if not self._text_depth:
                    self._close_text()
            if open_tag == tag:
                break

    def _close_text(self) -> None:
        chunks, self._text = self._text or [], None
        text = " ".join("".join(chunks).split())
        if text:
            (self.reading.ticks if self._text_tick else self.reading.other).append(text)
            self.reading.placed.append((*self._place, text))
            if self._text_tick and self._axis:
                along = self._place[1] if self._axis.endswith(":y") else self._place[0]
                self.reading.tick_places.append((self._axis, along, text))

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if self._text is not None:
            if not ("\n" in data and not data.strip()):  # the XML's own indentation between <tspan>s
                self._text.append(data)
        elif data.strip():
            self.reading.other.append(" ".join(data.split()))  # text outside <text> (a foreignObject): shown too

    def close(self) -> None:
        super().close()
        if self._text is not None:
            self._close_text()


def _coordinate(value: str | None) -> float | None:
    """An SVG text's own x or y (the first of a list), or None."""
    try:
        return float((value or "").replace(",", " ").split()[0])
    except (ValueError, IndexError):
        return None


_TRANSLATE = re.compile(r"^\s*translate\(\s*([-+.\deE]+)(?:[\s,]+([-+.\deE]+))?\s*\)\s*$")
_ROTATE_NONE = re.compile(r"^\s*rotate\(\s*-?0(?:\.0*)?(?:[\s,]+[-+.\deE]+){0,2}\s*\)\s*$")


def _translated(offset: tuple[float, float], transform: str) -> tuple[float, float] | None:
    """``offset`` moved by a ``translate(x y)`` (a ``rotate(-0 …)`` leaves it); None for any other
    transform (the place is unknown)."""
    if _ROTATE_NONE.match(transform):
        return offset
    match = _TRANSLATE.match(transform)
    if match is None:
        return None
    try:
        return offset[0] + float(match.group(1)), offset[1] + float(match.group(2) or 0)
    except ValueError:
        return None


def _tick_value(text: str) -> float | None:
    from settlement_research.sdc.context import read_cell

    return read_cell(text.replace("\u2212", "-"))


def _linear(points: list[tuple[float, float]]) -> bool:
    (p0, v0), (p1, v1) = points[0], points[-1]
    if p1 == p0:
        return False
    slope = (v1 - v0) / (p1 - p0)
    spread = max(v for _, v in points) - min(v for _, v in points)
    return spread > 0 and all(abs(v - (v0 + slope * (p - p0))) <= 0.02 * spread for p, v in points)


def off_scale_ticks(reading: SvgReading) -> list[str]:
    """Tick labels that are numbers but not an axis's scale: on an axis whose numeric labels are not
    linear (or log-linear) in their place along it (``3, 1, 4`` under three bars: each bar's count
    as its category label), or with fewer than three of them (any two are linear: ``0, 3``). A
    label set that is a scale is indistinguishable from an axis (counts ``1, 2, 3`` labelling bars
    in that order pass)."""
    axes: dict[str, list[tuple[float | None, str]]] = {}
    for axis, along, text in reading.tick_places:
        axes.setdefault(axis, []).append((along, text))
    out: list[str] = []
    for labels in axes.values():
        numbers = [(along, value) for along, text in labels if (value := _tick_value(text)) is not None]
        if not numbers:
            continue
        scale = len(numbers) >= 3 and all(along is not None for along, _ in numbers) and (
            _linear(sorted(numbers)) or (all(v > 0 for _, v in numbers)  # type: ignore[arg-type]
                                         and _linear(sorted((p, math.log10(v)) for p, v in numbers))))  # type: ignore[misc]
        if not scale:
            out += [text for _, text in labels]
    return out


def side_by_side(reading: SvgReading, width: int = 5, line_gap: float = 3.0) -> list[str]:
    """Texts that may read as one: up to ``width`` neighbours on one line (baselines within
    ``line_gap`` points, in x order) and in the order the SVG writes them, joined without a gap (an
    id written as ``12345`` and ``6789`` placed side by side, in either order in the file, or half a
    point apart in height). Each joined string is looked up whole, so neighbouring tick labels
    (``2009``, ``2010``) make no id by chance. Limit: a place set by a transform other than
    ``translate`` (a scale, a matrix, CSS) is not followed; such pieces are joined in file order only."""
    placed = sorted(((y, x, text) for x, y, text in reading.placed if x is not None and y is not None))
    lines: list[list[str]] = []
    row: list[tuple[float, str]] = []
    last: float | None = None
    for y, x, text in placed:
        if last is not None and y - last > line_gap:
            lines.append([t for _, t in sorted(row)])
            row = []
        row.append((x, text))
        last = y
    if row:
        lines.append([t for _, t in sorted(row)])
    lines.append([text for _, _, text in reading.placed])
    out = []
    for line in lines:
        for i in range(len(line)):
            for j in range(i + 2, min(len(line), i + width) + 1):
                out.append("".join(line[i:j]))
    return out


def read_svg(svg: str) -> SvgReading:
    """The texts of an SVG as a reader sees them (a ``<text>`` with its ``<tspan>``s is one text:
    matplotlib writes mathtext one glyph per tspan), and what in it cannot be read."""
    reader = _SvgReader()
    reader.feed(svg)
    reader.close()
    return reader.reading


def unreadable(reading: SvgReading) -> list[tuple[str, str]]:
    """``unreadable_image`` findings for what an SVG shows that is not text the gate reads."""
    findings = []
    if reading.glyphs:
        findings.append(("unreadable_image", "a chart whose text is drawn as glyph paths (svg.fonttype 'path'): the "
                         "gate cannot read it; draw charts with svg.fonttype 'none' (plots.set_theme)"))
    if reading.embedded:
        findings.append(("unreadable_image", f"{reading.embedded} image(s) or external resource(s) inside an SVG: "
                         "the gate cannot read their text"))
    return findings


def check_svg(svg: str, *, t: int, ids: frozenset[str]) -> list[tuple[str, str]]:
    """Findings ``(kind, message)`` for one SVG, read in this process: its texts judged as the hook
    judges a figure's (:func:`judge`), and what it shows that cannot be read (:func:`unreadable`)."""
    from settlement_research.sdc.audit import count_identifiers

    reading = read_svg(svg)
    off_scale = off_scale_ticks(reading)
    findings = judge(reading.ticks, [*reading.other, *off_scale], t=t, ids=ids)
    joined = sum(count_identifiers(text, ids) for text in side_by_side(reading)) if ids else 0
    if joined and not any(kind == "identifier" for kind, _ in findings):
        findings.append(("identifier", f"{joined} identifier value(s) written in pieces placed side by side in a chart"))
    return findings + unreadable(reading)


# Where an SVG writes geometry: numbers only. Identifiers are looked up in them number by number
# (an id written as a coordinate is found), never in digits joined across neighbouring numbers
# ("57.63 189.21" is not the 9-digit 576318921): adjacent coordinates are no text a reader sees,
# and joining them would find identifiers by chance in every chart.
GEOMETRY_ATTRS = frozenset({"d", "points", "transform", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry",
                            "dx", "dy", "width", "height", "viewbox"})
_GEOMETRY_VALUE = re.compile(r'(\s(?:d|points|transform|x|y|x1|y1|x2|y2|cx|cy|r|rx|ry|dx|dy|width|height|viewBox)=")'
                             r'([^"<>]*)"')
_RUN = re.compile(r"\d+")


def geometry_numbers(value: str) -> str:
    """A geometry attribute's value as its digit runs, one per line (each looked up whole)."""
    return "\n".join(dict.fromkeys(_RUN.findall(value)))


def for_lookup(svg: str) -> str:
    """An SVG as text for the identifier lookup: geometry attributes as :func:`geometry_numbers`,
    everything else (texts, ids, styles, other attributes) as written."""
    return _GEOMETRY_VALUE.sub(lambda m: m.group(1) + geometry_numbers(m.group(2)) + '"', svg)


_SVG_BLOCK = re.compile(r"<svg\b.*?</svg\s*>|<svg\b.*", re.IGNORECASE | re.DOTALL)


def svg_blocks(html: str) -> list[str]:
    """Every ``<svg>…</svg>`` element of a page (an unclosed one runs to the end)."""
    if "<svg" not in html and "<SVG" not in html.upper():
        return []
    return _SVG_BLOCK.findall(html)


def unreadable_images(srcs: Iterable[str]) -> int:
    """How many ``<img>`` sources a gate cannot read: anything but an SVG ``data:`` URI (its text is
    judged with the page's downloads, :mod:`.downloads`)."""
    return sum(1 for src in srcs if not src.strip().lower().startswith("data:image/svg+xml"))


# ------------------------------------------------------------------------------------- the hook


def install() -> None:
    """Wrap ``FigureCanvasBase.print_figure`` once per process (idempotent): every figure written
    (``savefig``, the inline backend) has its texts read while they are artists."""
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
            provenance.record_chart_finding("unreadable_image", f"chart text could not be read ({type(exc).__name__})")
        return result

    print_figure.__wrapped__ = original  # type: ignore[attr-defined]
    FigureCanvasBase.print_figure = print_figure  # type: ignore[method-assign]
    _INSTALLED["original"] = original


__all__ = ["GEOMETRY_ATTRS", "RASTER_MIMES", "SvgReading", "check_figure", "check_svg", "figure_texts", "for_lookup",
           "geometry_numbers", "install", "judge", "read_svg", "svg_blocks", "unreadable", "unreadable_images"]
