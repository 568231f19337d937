"""The post-render gate: audit every artefact of a report against the data, not against a pattern.

After a report is rendered, :func:`audit_report` reads what would be published — the HTML page (its
text, attributes and every table cell), results.json and the executed notebook — and withholds the
report on any finding:

- **identifiers**: every token of every artefact is looked up in the set of identifier values that
  actually occur in the person-level tables (the columns the models declare with ``id_col``), so a
  9-digit person id, an ``H…`` household id or any future format is caught without a pattern;
- **marks are verified**: ``data-sdc`` counts only with a ``data-sdc-sig`` that verifies under the
  render's secret key (:mod:`.provenance`); a hand-written, copied or replayed mark withholds;
- **small counts, default deny** wherever a count stands (:mod:`.context`): a table cell or header,
  a caption, a printed polars/pandas frame, prose ("3 persons", "settled 2"), a chart's text (the
  chart hook, :mod:`.charts`) — unless the disclosure API signed it (a suppressed table's cell, a
  declared public column, a label); whether ``1.00`` is a count is decided by its column, not by
  its decimals;
- **results.json**: every whole number 1..t-1, at any depth, is a count unless its key says
  otherwise or it is listed under ``_public``; under ``_sdc`` no share finer than
  ``rules.SHARE_STEPS`` allow;
- **images** must be readable here: a chart is an SVG whose texts are text, judged like a figure's
  (:func:`.charts.check_svg`: identifiers, small counts but in tick labels); a raster image (PNG,
  JPEG, GIF, WebP: an output, a ``data:`` URI, an ``<img>``) or an SVG whose text is drawn as glyph
  paths is withheld (``unreadable_image``). A chart's geometry (a bar's height) is not read: see
  :mod:`.charts`.

Findings never carry the disclosive value. :func:`scrub` removes identifier values (and anything
shaped like one) from error text before it reaches index.html, manifest.json or the console.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from settlement_research.sdc import charts, downloads, provenance
from settlement_research.sdc.context import _PEOPLE_RE as _PEOPLE_WORD
from settlement_research.sdc.context import (
    fold,
    is_count_in_prose,
    key_is_not_a_count,
    printed_counts,
    prose_counts,
    read_cell,
    small_count_cells,
    small_numbers,
    unlabelled_numbers,
)
from settlement_research.sdc.provenance import SIG_ATTR
from settlement_research.sdc.rules import SHARE_STEPS, SUPPRESSED, threshold

GATE = "ids-from-data+signed-marks+context-deny+downloads+public-windows+reading-order/5"  # in report cache keys: a new gate re-audits cached reports
SDC_KEYS = "_sdc"  # results.json: keys whose numbers derive from person-level data
PUBLIC_KEYS = "_public"  # results.json: keys holding declared public statistics (IMDi's requests, ...)
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*")
_ID_SHAPED = re.compile(r"\b(?:[A-Za-z]{0,3}\d{6,}|[A-Za-z]+[_-]?\d{4,})\b")
_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_EMPTY_CELL = ("", SUPPRESSED, ".", "..", "...", "-")


@dataclass
class Finding:
    """One disclosure problem in a rendered report. Never carries the disclosive value itself."""

    kind: str  # identifier | small_count | unreadable_cell | unreadable_image | precise_share | ...
    where: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


# ------------------------------------------------------------------------------------ identifiers

_ID_CACHE: dict[tuple[Any, ...], frozenset[str]] = {}


def identifier_files(clean_dir: Path) -> list[tuple[Path, list[str]]]:
    """(parquet file, its declared identifier columns) for every person-level table of every source
    folder under ``clean_dir``."""
    from settlement_research.model import identifier_columns

    declared = identifier_columns()
    out = []
    for folder in sorted(p for p in clean_dir.iterdir() if p.is_dir()) if clean_dir.is_dir() else []:
        for table, cols in declared.items():
            path = folder / f"{table}.parquet"
            if path.is_file():
                out.append((path, cols))
    return out


def identifier_values(clean_dir: Path | None = None) -> frozenset[str]:
    """Every identifier value in the person-level tables under ``clean_dir`` (default data_clean),
    as text. Kept per process and refreshed when a file changes."""
    import polars as pl

    from settlement_research.paths import data_clean_dir

    clean_dir = Path(clean_dir or data_clean_dir())
    files = identifier_files(clean_dir)
    key = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p, _ in files)
    if key not in _ID_CACHE:
        values: set[str] = set()
        for path, cols in files:
            present = [c for c in cols if c in pl.read_parquet_schema(path)]
            if present:
                frame = pl.read_parquet(path, columns=present)
                for c in present:
                    values.update(str(v) for v in frame[c].drop_nulls().unique().to_list())
        _ID_CACHE.clear()
        _ID_CACHE[key] = frozenset(values)
    return _ID_CACHE[key]


def tokens(text: str) -> set[str]:
    """Word-like tokens of ``text``, joined (``ab-12``) and split (``ab``, ``12``) at ``-``/``_``."""
    out: set[str] = set()
    for token in _TOKEN.findall(text):
        out.add(token)
        if "-" in token or "_" in token:
            out.update(re.split(r"[_-]", token))
    return out


_ALNUM = re.compile(r"[A-Za-z0-9]+")
_DIGITS = re.compile(r"\d+")
# digit groups an id may be written in: "123 456 789", "123.456.789", "1234-56789" (one separator each)
_GROUPED = re.compile(r"\d+(?:[ \t.,'\u2019_\u00a0\u2009\u202f-]\d+)+")
_HEX = re.compile(r"0[xX][0-9a-fA-F]+")
_MAX_GROUPS = 5
# the same, also across a line break (error text: shown in HTML, where a line break is a space)
_GROUPED_LINES = re.compile(r"\d+(?:(?:[ \t.,'\u2019_\u00a0\u2009\u202f-]|[ \t]*\r?\n\s*)\d+)+")


def normalise(text: str) -> str:
    """Text as a reader sees it (:func:`.context.fold`): compatibility forms folded (full-width digits
    to ASCII) and what shows no character removed (zero-width and other format characters, combining
    marks, fillers), so they cannot split an identifier. ASCII text is returned as is."""
    return fold(text)


def candidates(text: str) -> set[str]:
    """Every string in ``text`` that could be an identifier written by someone avoiding a lookup:
    the word tokens, digit runs glued to other text (``person123456789``, with up to three letters
    before them for ``H…``-style ids), digit groups written with separators (``123 456 789``) and hex
    literals as decimals. Upper-cased; compare with :func:`_id_index`."""
    text = normalise(text)
    out = tokens(text)
    for word in _ALNUM.findall(text):
        for run in _DIGITS.finditer(word):
            out.add(run.group())
            for k in (1, 2, 3):
                if run.start() >= k:
                    out.add(word[run.start() - k:run.end()])
    out.update(_grouped(text, 0))
    for literal in _HEX.findall(text):
        out.add(str(int(literal, 16)))
    return {c.upper() for c in out}


def _grouped(text: str, shortest: int) -> Iterator[str]:
    """Digit groups written with separators (``123 456 789``) joined, with a prefix of up to three
    letters before the first (``H 123 456 78``); groups too short to make ``shortest`` skipped."""
    for run in _GROUPED.finditer(text):
        if len(run.group()) + 3 < shortest:  # its digits, with a prefix of at most three letters, are too few
            continue
        groups = _DIGITS.findall(run.group())
        prefix = re.search(r"[A-Za-z]{1,3}\s?$", text[max(0, run.start() - 4):run.start()])
        for i in range(len(groups)):
            for j in range(i + 2, min(len(groups), i + _MAX_GROUPS) + 1):
                joined = "".join(groups[i:j])
                yield joined
                if i == 0 and prefix:
                    yield prefix.group().strip() + joined


@dataclass(frozen=True)
class _Index:
    """The identifier values prepared for lookup: upper-cased, and without leading zeros (case- and
    padding-blind); ``shortest``: the length of the shortest form a candidate must have to be one."""

    ids: frozenset[str]
    upper: frozenset[str]
    stripped: frozenset[str]
    digits: bool  # every id has a digit, also without its leading zeros (9 digits, H + 8 digits)
    shortest: int


_INDEX_CACHE: dict[int, _Index] = {}
_ANY_DIGIT = re.compile(r"\d")


def _id_index(ids: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
    """(upper-cased ids, upper-cased ids without leading zeros) for case- and padding-blind lookup."""
    index = _index(ids)
    return index.upper, index.stripped


def _index(ids: frozenset[str]) -> _Index:
    cached = _INDEX_CACHE.get(id(ids))
    if cached is None or cached.ids is not ids:
        upper = frozenset(i.upper() for i in ids)
        stripped = frozenset(i.lstrip("0") for i in upper if i.lstrip("0"))
        cached = _Index(ids, upper, stripped, all(_ANY_DIGIT.search(i) for i in upper | stripped),
                        min(len(i) for i in upper | stripped) if upper else 1)
        _INDEX_CACHE.clear()
        _INDEX_CACHE[id(ids)] = cached
        _FOUND.clear()
        _CACHE_CHARS[0] = 0
    return cached


def _is_id(candidate: str, upper: frozenset[str], stripped: frozenset[str]) -> bool:
    return candidate in upper or (bool(candidate.lstrip("0")) and candidate.lstrip("0") in stripped)


_SEPARATOR = re.compile(r"[_-]")


@functools.lru_cache(maxsize=8)
def _runs_of(n: int) -> re.Pattern[str]:
    return re.compile(rf"[0-9]{{{n},}}")


def _found(text: str, index: _Index) -> set[str]:
    """The identifier values among :func:`candidates` of ``text``, found without making the
    candidates that are too short to be one: a candidate shorter than ``index.shortest`` is neither
    an id nor an id with its leading zeros dropped (padding only lengthens it), and every candidate
    is ASCII (upper-casing keeps its length). So this is exactly ``{c for c in candidates(text) if
    _is_id(c)}`` (tested against it), at the cost of a few C-level scans where the text holds no
    long digit run — the gate's largest cost was making candidates of every word of every text."""
    text = normalise(text)
    n = index.shortest
    out: set[str] = set()
    for token in [t for t in _TOKEN.findall(text) if len(t) >= n]:
        if index.digits and not _ANY_DIGIT.search(token):
            continue  # no id, and no part of it, is made of letters only
        out.add(token)
        if "-" in token or "_" in token:
            out.update(p for p in _SEPARATOR.split(token) if len(p) >= n)
    for run in _runs_of(max(1, n - 3)).finditer(text):  # digit runs in a word, with 0-3 characters before
        a, b = run.span()
        if b - a >= n:
            out.add(run.group())
        for k in (1, 2, 3):
            before = text[a - k:a] if a >= k else ""
            if not (before and before.isascii() and before.isalnum()):
                break  # the word starts here
            if b - a + k >= n:
                out.add(text[a - k:b])
    out.update(_grouped(text, n))
    for literal in _HEX.findall(text):
        out.add(str(int(literal, 16)))
    return {c for c in (x.upper() for x in out) if _is_id(c, index.upper, index.stripped)}


# A long text is looked up line by line, each line once per process (the template's source cells,
# boilerplate and the read log's entries repeat across reports). A line break is cut only where no
# candidate can span it: tokens, glued runs, digit groups and hex literals never hold one, and a
# prefix letter before a digit group may sit before it only when the group starts the next line,
# so the cut is made only before an ASCII character that is not a digit (ASCII is also unchanged
# by normalisation, so every piece normalises as it did in the whole).
_CUT = re.compile(r"\n(?=[\x00-\x2f\x3a-\x7f])")
_LONG = 20_000
_FOUND: dict[str, frozenset[str]] = {}  # text -> the identifier values in it, for the ids of _INDEX_CACHE
_NONE: frozenset[str] = frozenset()
_CACHE_CHARS = [0]  # characters of text held in _FOUND (bounded: a batch of 428 reports stays far below)


def _found_cached(text: str, index: _Index) -> frozenset[str]:
    if index.digits and text.isascii() and not _ANY_DIGIT.search(text):
        return _NONE  # every candidate is made of the text's characters (a hex literal has its '0x')
    hit = _FOUND.get(text)
    if hit is None:
        hit = frozenset(_found(text, index)) or _NONE
        if _CACHE_CHARS[0] < 50_000_000 and len(text) < _LONG:
            _FOUND[text] = hit
            _CACHE_CHARS[0] += len(text)
    return hit


def count_identifiers(text: str, ids: frozenset[str]) -> int:
    """How many distinct strings of ``text`` are identifier values (in any of the forms of
    :func:`candidates`: glued, grouped, zero-padded, other case, hex)."""
    if not ids:
        return 0
    index = _index(ids)
    if len(text) < _LONG:
        return len(_found_cached(text, index))
    found: set[str] = set()
    for piece in set(_CUT.split(text)):
        found |= _found_cached(piece, index)
    return len(found)


def _json_strings(obj: Any) -> Iterable[str]:
    """Every key and scalar of a parsed JSON document, as text."""
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            yield str(key)
            yield from _json_strings(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _json_strings(value)
    elif obj is not None:
        yield str(obj)


def json_identifiers(text: str, ids: frozenset[str]) -> int:
    """Identifier values in a JSON file as written and as any JSON reader reads it: its strings
    decoded, so an id written with escapes (``"\\u0031\\u0032…"``) is found too (the raw text holds
    only ``u0031``-shaped tokens). Each distinct string is looked up once per process."""
    hits = count_identifiers(text, ids)
    if hits or not ids:
        return hits
    try:
        doc = json.loads(text)
    except ValueError:
        return 0  # not JSON: its text was looked up as written
    return sum(count_identifiers(value, ids) for value in set(_json_strings(doc)))


def scrub_counts(text: str, t: int | None = None, *, error: bool = False) -> str:
    """``text`` with every number below ``t`` that stands where a count of people stands (``only
    3 refugees``) replaced by ``<t``: error text reaches index.html, manifest.json and the console.
    ``error``: the text is a failing template's message (untrusted, written by template code), so
    default deny: every small number goes unless its own label says what it is (``cell 3``,
    ``3 years``), as ``0534=3`` is a count with no word of people near it."""
    t = threshold() if t is None else t
    spans = unlabelled_numbers(text, t) if error else [
        (a, b) for a, b, _ in small_numbers(text, t) if is_count_in_prose(text, a, b)]
    for a, b in reversed(spans):
        text = text[:a] + f"<{t}" + text[b:]
    return text


def scrub(text: str | None, ids: frozenset[str] | None = None, t: int | None = None, *,
          error: bool = False) -> str | None:
    """``text`` with every identifier value and anything shaped like one replaced by ``[id]``, and
    every small count of people replaced by ``<t`` (:func:`scrub_counts`; ``error``: an error
    message, where every unlabelled small number is a count)."""
    if text is None:
        return None
    text = scrub_counts(normalise(text), t, error=error)  # as it reads: a '³' is scrubbed as a 3
    ids = identifier_values() if ids is None else ids

    index = _index(ids) if ids else None

    def hit(word: str) -> bool:  # _found_cached: exactly the candidates that are ids, made only when long enough
        return bool(_ID_SHAPED.fullmatch(word)) or (index is not None and bool(_found_cached(word, index)))

    def grouped(match: re.Match[str]) -> str:
        return "[id]" if hit(match.group(0)) or _ID_SHAPED.fullmatch(re.sub(r"\D", "", match.group(0))) else match.group(0)

    def sub(match: re.Match[str]) -> str:
        word = match.group(0)
        if hit(word):
            return "[id]"
        parts = re.split(r"([_-])", word)
        return "".join("[id]" if hit(p) else p for p in parts)

    return _TOKEN.sub(sub, _GROUPED_LINES.sub(grouped, text))


def scrub_manifest(manifest: Mapping[str, Any], ids: frozenset[str] | None = None) -> None:
    """Scrub every string of every report entry of a batch manifest in place (before it is written):
    the error text, but also the name, the parameters and file names, which carry a parameter value
    that may itself be an identifier (``--grid note=<person id>``)."""
    ids = identifier_values() if ids is None else ids
    done: dict[tuple[str, bool], str | None] = {}  # keys and statuses repeat in every entry: scrubbed once

    def clean(value: Any, error: bool = False) -> Any:
        if isinstance(value, str):
            if (value, error) not in done:
                done[(value, error)] = scrub(value, ids, error=error)
            return done[(value, error)]
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    for entry in manifest.get("reports", []):
        if isinstance(entry, dict):
            for key in list(entry):
                entry[key] = clean(entry[key], key == "error")


# ------------------------------------------------------------------------------------- small counts


def parse_number(text: str) -> float | None:
    """A table cell's text as a number (thin spaces, thousands commas, decimal comma), else None."""
    return read_cell(text)


_BLOCK = frozenset({
    "p", "div", "br", "hr", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr", "td", "th",
    "caption", "thead", "tbody", "tfoot", "pre", "section", "article", "header", "footer", "main", "nav",
    "blockquote", "dl", "dt", "dd", "figure", "figcaption", "title", "body", "html", "head", "details", "summary",
    "text", "tspan", "g", "svg", "img", "form", "label", "button", "option", "select", "textarea", "iframe",
})
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source", "wbr"})
_SHOWN_ATTRS = frozenset({"title", "alt", "aria-label", "aria-description", "placeholder", "value", "label",
                          "content", "summary", "download", "xlink:title", "start"})  # start: an <ol>'s first marker
_WHITESPACE = re.compile(r"\s+")
# attributes whose small numbers lay out or number the page (a cell's span, a tab order, a size), and
# a cell's own sort and CSV key (the index's: judged as the cell when it is the number the cell shows)
_LAYOUT_ATTRS = frozenset({"colspan", "rowspan", "span", "width", "height", "tabindex", "size", "maxlength",
                           "minlength", "border", "cellpadding", "cellspacing", "rows", "cols", "min", "max", "step",
                           "low", "high", "optimum", "aria-level", "aria-colindex", "aria-rowindex", "aria-colspan",
                           "aria-rowspan", "aria-setsize", "aria-posinset", "aria-colcount", "aria-rowcount",
                           "stroke-width", "opacity", "fill-opacity", "stroke-opacity", "version", "font-size",
                           "stroke-miterlimit", "scale", "order", "stddeviation", "k1", "k2", "k3", "k4",
                           "font-weight", "loop", "frameborder", "hspace", "vspace", "marginwidth", "marginheight"})
_CELL_KEYS = frozenset({"data-sort", "data-csv"})


def _small(value: str, t: int) -> bool:
    number = read_cell(value.strip())
    return number is not None and number.is_integer() and 0 < number < t
_PARA = " \u00b6 "  # a block boundary: ends a prose context (see context._WORD)
# where a page loads an image from (an <img>'s src and srcset, a picture's source, an image button,
# an object or embed, a video's poster): anything but an SVG data: URI is an image the gate cannot read
_IMAGE_SOURCES = {"img": ("src", "srcset"), "source": ("src", "srcset"), "input": ("src",), "object": ("data",),
                  "embed": ("src",), "video": ("poster",)}


@dataclass
class _Cell:
    tag: str  # td | th
    kind: str | None  # verified data-sdc kind, or None (plain or forged)
    text: str
    body: bool  # in <tbody> (or no thead/tbody at all)
    column: str | None = None  # the public column a public cell names (data-sdc-public)
    window: str | None = None  # the years it covers (data-sdc-public-years)


@functools.lru_cache(maxsize=256)
def _resolved(column: str) -> str:
    from settlement_research.sdc.rendering import resolve_public

    return resolve_public(column)


PUBLIC_ATTR = "data-sdc-public"  # on a public cell or span: the ``table.column`` it shows
WINDOW_ATTR = "data-sdc-public-years"  # ... and the year or window of years it covers (sdc.public)


@dataclass
class Clean:
    """The gate run in a process that never executed template code (:mod:`.gate`).

    There, a signature proves nothing: the renderer's process held the key and template code could
    have signed anything. So a mark may only *restrict* (a ``count`` must not be small, a
    ``suppressed`` cell must show ':'); a ``label``, ``value`` or ``header`` mark exempts nothing —
    its text is judged by its context like unmarked text — and a small number marked ``public`` must
    be a value the public table publishes there (:class:`.public.PublicValues`). ``kommune``: the
    report's municipality (the context of a public number in a row without a code). ``windows``: the
    spans of several years a public mark may name — the report's own (its year parameters), so a
    template cannot pick, among all runs of years, one whose public sum equals a register count."""

    public: Any  # sdc.public.PublicValues
    kommune: str | None = None
    windows: frozenset[tuple[int, int]] | None = None  # the spans of years a public mark may name (None: any)

    def public_ok(self, text: str, column: str | None, row: Sequence[str] = (), path: Sequence[str] = (),
                  window: str | None = None, header: str = "", caption: str = "") -> bool:
        """Whether every small number of ``text`` is published by ``column`` in this context: the
        row's municipality code, and the years it covers — the row's year (or a year in a
        results.json key path) or the window the mark names (``window``: ``"2009-2014"``, from
        ``data-sdc-public-years`` or results.json's ``_public``; a window in the key path counts too)."""
        from settlement_research.sdc.public import parse_window

        try:
            spec = _resolved(column) if column else None
        except ValueError:
            return False  # names no declared public column
        if self.public.no_register:  # no person-level data: no register count can pose as public (and
            return True  # no municipality codes are known, so a code such as 2030 would read as a year)
        span = parse_window(window) if window is not None else next(
            (w for w in map(parse_window, path) if w and w[0] != w[1]), None)
        if window is not None and span is None:
            return False  # a window the gate cannot read names no years
        if span is not None and span[0] != span[1] and self.windows is not None and span not in self.windows:
            return False  # a span the report was not asked for: chosen so that some public sum fits
        kommuner, year = self.public.row_context([*row, *path], self.kommune)
        # the years a reader reads the number as: its column header's (one year or window: exactly
        # the number's) and its caption's (the number's years inside them)
        named = _named_years(header)
        if named:
            if len(named) > 1 or (span is not None and span != named[0]) or (
                    year is not None and named[0] != (year, year)):
                return False
            span = span or named[0]
        within = _named_years(caption)
        if within:
            first, last = min(w[0] for w in within), max(w[1] for w in within)
            covered = span or ((year, year) if year is not None else None)
            if covered is not None and not (first <= covered[0] and covered[1] <= last):
                return False
        # no year of its own: a code that reads as a year (2010) may be the row's year
        years = [year] if year is not None else [None, *self.public.coded_years([*row, *path])]

        def allowed(number: float) -> bool:
            return any(self.public.allows(number, column=spec, kommuner=kommuner, year=y, window=span) for y in years)

        if not all(allowed(float(text[a:b])) for a, b, _ in small_numbers(text, self.public.t)):
            return False
        number = read_cell(text.strip())
        return number is None or allowed(number)


_YEARS_NAMED = re.compile(r"(?<![\d.,])(\d{4})(?:\s*[-\u2013\u2014]\s*(\d{4}))?(?![\d.,]\d)")


def _named_years(text: str) -> list[tuple[int, int]]:
    """The distinct years and windows (first, last) a header or caption names (``2012``,
    ``2009–2014``)."""
    from settlement_research.sdc.public import YEAR_RANGE

    out: list[tuple[int, int]] = []
    for match in _YEARS_NAMED.finditer(fold(text)):
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if first in YEAR_RANGE and last in YEAR_RANGE and first <= last and (first, last) not in out:
            out.append((first, last))
    return out


class _Scanner(HTMLParser):
    """One pass over a page: its texts and attribute values (for identifiers), its text with inline
    tags removed (an id split as ``<b>1234</b>56789``), its prose, captions and printed blocks,
    every table's cells with their *verified* provenance, and every mark that does not verify."""

    def __init__(self, key: bytes | None, clean: Clean | None = None, verify_marks: bool = True,
                 t: int | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.key = key
        self.clean = clean
        self.verify_marks = verify_marks
        self.unverified_public = 0  # clean gate: public numbers the public table does not publish
        self.caption_of: dict[int, str] = {}  # id(table) -> its caption
        self.texts: list[str] = []
        self.shown: list[str] = []  # attribute values a reader sees or hears (title, alt, aria-label…)
        self.flow: list[str] = []  # all text, inline tags joined without a gap
        self.prose: list[str] = []
        self.captions: list[str] = []
        self.pre: list[str] = []
        self.tables: list[list[list[_Cell]]] = []
        self.forged = 0
        self.image_sources: list[str] = []  # every image source (see _IMAGE_SOURCES)
        self.t = threshold() if t is None else t
        self.source_counts = 0  # small counts in attributes no reader sees (data-n="3")
        self._svg = 0  # inside an <svg>: its geometry attributes are numbers (charts.geometry_numbers)
        self.geometry: list[str] = []  # those numbers, looked up one by one (one text for all)
        self._tables: list[list[list[_Cell]]] = []
        self._marks: list[list[Any]] = []  # [tag, kind, sig, chunks, public column, window]
        self._cells: list[list[Any]] = []  # [tag, chunks, in thead]
        self._caption: list[str] | None = None
        self._pre: list[str] | None = None
        self._skip = 0
        self._thead = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in _IMAGE_SOURCES.get(tag, ()):
            if values.get(name):
                self.image_sources.append(values[name] or "")
        if tag == "svg":
            self._svg += 1
        for name, value in attrs:
            if value and name not in _LAYOUT_ATTRS and not name.startswith("data-sdc") and name not in _SHOWN_ATTRS \
                    and not (self._svg and name in charts.GEOMETRY_ATTRS) and _small(value, self.t) \
                    and not (tag in ("td", "th") and name in _CELL_KEYS):
                self.source_counts += 1  # the page's source is published: a count no reader sees is still out
            if value and not value.startswith("data:") and name != SIG_ATTR:
                if self._svg and name in charts.GEOMETRY_ATTRS:
                    self.geometry.append(charts.geometry_numbers(value))
                else:
                    self.texts.append(value)
                if name in _SHOWN_ATTRS:  # a hover or an image description is read like prose
                    self.shown.append(value)
        if tag in _BLOCK:
            self.flow.append(" ")
            if not self._cells and self._caption is None and self._pre is None:
                self.prose.append(_PARA)
        if tag in ("style", "script"):
            self._skip += 1
        elif tag == "table":
            self._tables.append([])
        elif tag == "tr" and self._tables:
            self._tables[-1].append([])
        elif tag == "thead":
            self._thead += 1
        elif tag in ("td", "th"):
            if not self._tables:  # a cell outside any table is still a cell
                self._tables.append([[]])
            self._cells.append([tag, [], self._thead > 0, [v for k, v in attrs if k in _CELL_KEYS and v]])
        elif tag == "caption":
            self._caption = []
        elif tag == "pre":
            self._pre = []
        if "data-sdc" in values and tag not in _VOID:
            self._marks.append([tag, values.get("data-sdc"), values.get(SIG_ATTR), [], values.get(PUBLIC_ATTR),
                                values.get(WINDOW_ATTR)])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if "data-sdc" in dict(attrs) and tag not in _VOID:
            self.handle_endtag(tag)
        elif tag == "svg" and self._svg:  # <svg/>: opened and closed
            self._svg -= 1

    def _close_mark(self) -> tuple[str | None, str, str | None, str | None]:
        tag, kind, sig, chunks, column, window = self._marks.pop()
        text = "".join(chunks)
        if not self.verify_marks:  # clean gate without the render's key: a claim, judged as one
            return (kind if kind in provenance.KINDS else None), text, column, window
        if provenance.verify(kind, text, sig, self.key):
            return kind, text, column, window
        self.forged += 1
        return None, text, column, window

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script") and self._skip:
            self._skip -= 1
        if tag == "svg" and self._svg:
            self._svg -= 1
        mark: tuple[str | None, str, str | None, str | None] | None = None
        if self._marks and self._marks[-1][0] == tag:
            mark = self._close_mark()
        if tag in ("td", "th") and self._cells:
            cell_tag, chunks, in_head, keys = self._cells.pop()
            shown = "".join(chunks).strip()
            self.source_counts += sum(1 for v in keys if _small(v, self.t) and read_cell(v.strip()) != read_cell(shown))
            kind = mark[0] if mark else None
            cell = _Cell(cell_tag, kind, "".join(chunks), not in_head, mark[2] if mark else None,
                         mark[3] if mark else None)
            if self._tables and self._tables[-1]:
                self._tables[-1][-1].append(cell)
            elif self._tables:
                self._tables[-1].append([cell])
        elif mark is not None:
            kind, text, column, window = mark
            # a verified mark in prose stands for itself; its number is not judged as prose
            target = self._target()
            if self.clean is not None and kind:  # the clean gate: a claim exempts only what it proves
                if kind == "public":
                    ok = self.clean.public_ok(text, column, window=window)
                    self.unverified_public += not ok
                else:
                    ok = kind in ("count", "suppressed") and not small_numbers(text, self.clean.public.t)
                kind = kind if ok else None
            target.append(" \u2063 " if kind else text)
        if tag == "thead" and self._thead:
            self._thead -= 1
        elif tag == "table" and self._tables:
            self.tables.append(self._tables.pop())
        elif tag == "caption" and self._caption is not None:
            self.captions.append("".join(self._caption))
            if self._tables:
                self.caption_of[id(self._tables[-1])] = self.captions[-1]
            self._caption = None
        elif tag == "pre" and self._pre is not None:
            self.pre.append("".join(self._pre))
            self._pre = None
        if tag in _BLOCK:
            self.flow.append(" ")
            if not self._cells and self._caption is None and self._pre is None:
                self.prose.append(_PARA)

    def _target(self) -> list[str]:
        if self._marks:
            return self._marks[-1][3]
        if self._cells:
            return self._cells[-1][1]
        if self._caption is not None:
            return self._caption
        if self._pre is not None:
            return self._pre
        return self.prose

    def handle_data(self, data: str) -> None:
        if self._skip:  # a style sheet or script: published in the page's source, looked up for ids
            self.texts.append(data)
            return
        shown = _WHITESPACE.sub(" ", data)  # a line break in text shows as a space ("12345 6789")
        self.texts.append(shown)
        self.flow.append(shown)
        if self._marks:
            self._marks[-1][3].append(data)
            if self._marks[-1][0] in ("td", "th") and self._cells:  # the cell is the mark
                self._cells[-1][1].append(data)
            return
        self._target().append(data)

    def handle_comment(self, data: str) -> None:
        self.texts.append(data)  # not shown, but published in the page's source

    def close(self) -> None:
        super().close()
        while self._marks:
            self._close_mark()
        while self._cells:  # an unclosed cell at the end of the page is still a cell
            tag, chunks, in_head, _ = self._cells.pop()
            if self._tables:
                (self._tables[-1] or self._tables[-1].append([]) or self._tables[-1])[-1].append(
                    _Cell(tag, None, "".join(chunks), not in_head))
        while self._tables:
            self.tables.append(self._tables.pop())


def _row_numbers(texts: Sequence[str]) -> bool:
    """0, 1, 2… or 1, 2, 3…: a row index (pandas), not counts."""
    numbers = [read_cell(t) for t in texts]
    return len(numbers) >= 2 and all(n is not None for n in numbers) and numbers[0] in (0, 1) and all(
        b - a == 1 for a, b in zip(numbers, numbers[1:], strict=False))  # type: ignore[operator]


_UNIT_HEADER = re.compile(
    r"\b(?:warnings?|errors?|rules?|columns?|files?|tables?|bytes|sheets?|categor(?:y|ies)|levels?|classes|"
    r"symbols?|null|cells?|municipalit(?:y|ies)|advarsler|feil|regler|kolonner|filer|tabeller|kommuner)\b",
    re.IGNORECASE)


def _names_unit(text: str) -> bool:
    """A header or caption that says what its numbers count, and it is not people."""
    return bool(_UNIT_HEADER.search(text)) and not any(_PEOPLE_WORD.fullmatch(w) for w in re.findall(r"\w+", text))


def _ordinal_axis(texts: Sequence[str]) -> bool:
    """0, 1, 2, 3+ (or from 1): the categories of a count, top to bottom, not counts; what such a
    column can say is how many rows it has."""
    numbers = [t.strip() for t in texts]
    if len(numbers) < 2:
        return False
    last = numbers[-1]
    if last.endswith("+") and last[:-1].isdigit():
        numbers = [*numbers[:-1], last[:-1]]
    if not all(n.isdigit() for n in numbers):
        return False
    values = [int(n) for n in numbers]
    return values[0] in (0, 1) and all(b - a == 1 for a, b in zip(values, values[1:], strict=False))


def _names_municipality(row: Sequence[_Cell]) -> bool:
    """A row with a municipality code in it (``0301``; not a year): its numbers count something in
    that municipality, so a caption, header or 1, 2, 3… axis saying they count something other than
    people is not believed (they are template text and the label marks are signed with a key the
    template holds)."""
    from settlement_research.sdc.public import YEAR_RANGE

    return any(re.fullmatch(r"\d{4}", c.text.strip()) and int(c.text.strip()) not in YEAR_RANGE for c in row)


def _not_people(heads: Sequence[str], i: int, j: int, body: Sequence[list[_Cell]]) -> bool:
    """Whether the header above body cell (i, j) names a unit that is not people: in the clean
    gate a label mark is honoured only there (the header is template text: this is the trust the
    prose rule gives "3 warnings", not more)."""
    offset = sum(1 for c in body[i] if c.tag == "th")  # row headers before the cells
    k = j + offset
    return k < len(heads) and _names_unit(heads[k])


def _table_findings(table: list[list[_Cell]], t: int, where: str, clean: Clean | None = None,
                    caption: str = "") -> list[Finding]:
    findings: list[Finding] = []
    body = [row for row in table if row and any(c.body and c.tag == "td" for c in row)]
    # a row header column (<th> in the body) that only numbers the rows is not a count
    row_heads = [row[0].text.strip() for row in body if row[0].tag == "th"]
    index_ok = _row_numbers(row_heads)
    for row in table:
        for cell in row:
            text = cell.text.strip()
            if cell.tag == "th" and (not cell.body or row not in body or not index_ok):
                if cell.kind in ("header", "label") and clean is None:
                    continue
                number = read_cell(text)
                if (number is not None and number.is_integer() and 0 < number < t) or prose_counts(text, t):
                    findings.append(Finding("small_count", f"{where} table header", f"a number below {t} in a "
                                            "header that the disclosure API did not write"))
    rows = [[c.text.strip() for c in row if c.tag == "td"] for row in body]
    width = max((len(r) for r in rows), default=0)
    rows = [r + [""] * (width - len(r)) for r in rows]
    kinds = [[c.kind for c in row if c.tag == "td"] for row in body]
    columns = [[c.column for c in row if c.tag == "td"] for row in body]
    windows = [[c.window for c in row if c.tag == "td"] for row in body]
    heads = next(([c.text.strip() for c in row] for row in table if row and all(c.tag == "th" and not c.body for c in row)),
                 [])
    signed: set[tuple[int, int]] = set()
    unverified = 0
    ordinal = {j for j in range(width) if _ordinal_axis([r[j] for r in rows])}
    unit_caption = _names_unit(caption)  # "Municipalities with a row, by table and year"
    for i, row_kinds in enumerate(kinds):
        for j, kind in enumerate(row_kinds):
            text = rows[i][j]
            if kind is None:
                continue
            if clean is not None:  # a claim exempts only what it proves (see Clean)
                if kind == "public":
                    offset = sum(1 for c in body[i] if c.tag == "th")  # row headers before the cells
                    header = heads[j + offset] if j + offset < len(heads) else ""
                    if not clean.public_ok(text, columns[i][j], [c.text for c in body[i]], window=windows[i][j],
                                           header=header, caption=caption):
                        unverified += 1
                        continue
                elif kind == "label" and (unit_caption or _not_people(heads, i, j, body) or j in ordinal) \
                        and not _names_municipality(body[i]):
                    pass  # a label under a header naming what it counts (warnings, rules…), or 0, 1, 2, 3+
                elif kind not in ("count", "suppressed"):
                    continue  # label, value: judged by the column like an unmarked cell
            signed.add((i, j))
            if kind == "suppressed" and text != SUPPRESSED:
                findings.append(Finding("unreadable_cell", f"{where} table cell", "a cell marked suppressed does not show ':'"))
            elif kind == "count" and text not in _EMPTY_CELL:
                number = read_cell(text)
                if number is None:
                    findings.append(Finding("unreadable_cell", f"{where} table cell", "a disclosure-controlled cell is not a number"))
                elif 0 < number < t:
                    findings.append(Finding("small_count", f"{where} table cell", f"unsuppressed count below the threshold {t}"))
    wordy = sum(1 for i, row in enumerate(rows) for j, text in enumerate(row)
                if (kinds[i][j] if j < len(kinds[i]) else None) is None and read_cell(text) is None
                and prose_counts(text, t)) if body else 0
    if wordy:  # "only 3 refugees" in a cell is prose in a cell
        findings.append(Finding("small_count", f"{where} table cell", f"{wordy} cell(s) writing a number below {t} "
                                "as a count of people"))
    if unverified:
        findings.append(Finding("unverified_public", f"{where} table", f"{unverified} cell(s) marked public showing a "
                                f"number below {t} that the public table does not publish there"))
    offset = sum(1 for c in body[0] if c.tag == "th") if body else 0  # row headers before the cells
    for i, j in small_count_cells(rows, t, skip=signed, headers=heads[offset:]):
        findings.append(Finding("small_count", f"{where} table cell r{i}c{j}", f"a number below {t} in a cell that is "
                                "neither disclosure-controlled nor a declared public column"))
    return findings


def check_text(text: str, *, ids: frozenset[str] = frozenset(), t: int | None = None, where: str = "text",
               printed: bool = True) -> list[Finding]:
    """Plain text (a stream output, a printed frame, text/plain): identifiers; small counts in the
    cells of printed tables and in counting contexts of its prose."""
    t = threshold() if t is None else t
    findings: list[Finding] = []
    hits = count_identifiers(text, ids)
    if hits:
        findings.append(Finding("identifier", where, f"{hits} identifier value(s) from the person-level data"))
    if printed and printed_counts(text, t):
        findings.append(Finding("small_count", f"{where} printed table", f"a number below {t} in a printed table "
                                "(plain text is never disclosure-controlled)"))
    if prose_counts(text, t):
        findings.append(Finding("small_count", f"{where} text", f"a number below {t} written as a count of people"))
    return findings


def signed_columns(tables: Sequence[list[list[_Cell]]], clean: Clean | None = None) -> downloads.Allowed:
    """The headers the disclosure API signed on a page, and those of its columns whose cells it
    signed as a declared public statistic, a label or a value (a share or mean of suppressed
    counts), and never as a person-level count. For the clean gate (``clean``): no header is
    exempt, and a column only where every cell is a public number checked against the data (or
    ':'), with the numbers it showed (a download may repeat them, nothing else)."""
    if clean is not None:
        return _public_columns(tables, clean)
    allowed = downloads.Allowed()
    for table in tables:
        head = next((row for row in table if row and all(c.tag == "th" and not c.body for c in row)), None)
        if head is None:
            continue
        names = [c.text.strip() if c.kind == "header" else None for c in head]
        allowed.headers.update(n for n in names if n)
        kinds: dict[int, set[str | None]] = {}
        for row in table:
            if row is head:
                continue
            for j, cell in enumerate(c for c in row if c.tag == "td"):
                if cell.text.strip():
                    kinds.setdefault(j, set()).add(cell.kind)
        allowed.columns.update(names[j] for j, ks in kinds.items()
                               if j < len(names) and names[j] and ks and ks <= {"public", "label", "value", "suppressed"})
    return allowed


def _public_columns(tables: Sequence[list[list[_Cell]]], clean: Clean) -> downloads.Allowed:
    allowed = downloads.Allowed(values={})
    for table in tables:
        head = next((row for row in table if row and all(c.tag == "th" and not c.body for c in row)), None)
        if head is None:
            continue
        names = [c.text.strip() for c in head]
        shown: dict[int, set[float]] = {}
        bad: set[int] = set()
        for row in table:
            if row is head:
                continue
            for j, cell in enumerate(c for c in row if c.tag == "td"):
                text = cell.text.strip()
                if not text or text == SUPPRESSED:
                    continue
                if cell.kind != "public" or not clean.public_ok(text, cell.column, [c.text for c in row],
                                                                window=cell.window):
                    bad.add(j)
                elif (number := read_cell(text)) is not None:
                    shown.setdefault(j, set()).add(number)
        for j, values in shown.items():
            if j < len(names) and names[j] and j not in bad:
                allowed.columns.add(names[j])
                allowed.values.setdefault(names[j], set()).update(values)  # type: ignore[union-attr]
    return allowed


# What makes a browser show characters in another order than the page writes them: bidi controls
# (an override shows "987654321" as "123456789"; a right-to-left mark or context swaps the groups of
# "6789 12345"), <bdo>/<bdi>, a dir or direction of rtl/auto, unicode-bidi. The id lookup reads
# text in the written order, so a page that reorders text is withheld (no report of this package
# writes right-to-left text). Read after HTML and CSS escapes are undone.
_REORDERING = re.compile(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|<\s*bd[oi]\b|\bdir\s*=\s*['\"]?\s*(?:rtl|auto)|"
                         r"\bdirection\s*[:=]\s*['\"]?\s*rtl|unicode-bidi", re.IGNORECASE)
_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})\s?|(.))", re.DOTALL)


def reorders_text(page: str) -> bool:
    """True when a page tells the browser to show its characters in another order than written."""
    import html as html_module

    if not ("\\" in page or "&" in page or not page.isascii() or "bd" in page.lower() or "dir" in page.lower()
            or "bidi" in page.lower()):
        return False
    text = html_module.unescape(page)
    text = _CSS_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)) if m.group(1) else m.group(2), text)
    return bool(_REORDERING.search(text))


def check_html(html: str, *, ids: frozenset[str] = frozenset(), t: int | None = None, where: str = "html",
               key: bytes | None = None, embedded: bool = True, clean: Clean | None = None,
               verify_marks: bool = True) -> list[Finding]:
    """A page: identifiers anywhere in its text, attributes or tag-stripped text; marks that the
    disclosure API did not write in this render (``key``, default the current render's); small
    counts in any table cell or header not signed by the API, in captions, printed blocks and in
    the counting contexts of its prose (default deny); with ``embedded``, every ``data:`` URI
    (CSV/Excel downloads, SVG, JSON…) decoded and judged by the same rules (:mod:`.downloads`).
    ``clean``: the clean-process gate, where a mark exempts only what it proves (:class:`Clean`);
    ``verify_marks=False``: no render key at hand (a cached report), so marks are not verified
    (in the clean gate they exempt nothing that a forged one could)."""
    t = threshold() if t is None else t
    key = provenance.current().key if key is None else key
    scanner = _Scanner(key, clean, verify_marks, t)
    scanner.feed(html)
    scanner.close()
    findings: list[Finding] = []
    hits = sum(count_identifiers(text, ids) for text in scanner.texts)
    if scanner.geometry:
        hits += count_identifiers("\n".join(scanner.geometry), ids)
    if not hits and ids:
        hits = count_identifiers("".join(scanner.flow), ids)
    if hits:
        findings.append(Finding("identifier", where, f"{hits} identifier value(s) from the person-level data"))
    if reorders_text(html):
        findings.append(Finding("reordered_text", where, "text shown in another order than written (a bidi control, "
                                "<bdo>, rtl direction or unicode-bidi): the gate reads it in the written order"))
    if scanner.forged:
        findings.append(Finding("forged_mark", where, f"{scanner.forged} element(s) marked data-sdc that the "
                                "disclosure API did not write in this render"))
    if scanner.unverified_public:
        findings.append(Finding("unverified_public", f"{where} prose", f"{scanner.unverified_public} number(s) marked "
                                "public that the public table does not publish there"))
    for table in scanner.tables:
        findings += _table_findings(table, t, where, clean, scanner.caption_of.get(id(table), ""))
    for caption in scanner.captions:
        if prose_counts(caption, t) or any(read_cell(caption.strip()) == n for n in range(1, t)):
            findings.append(Finding("small_count", f"{where} caption", f"a number below {t} written as a count of people"))
    for block in scanner.pre:
        findings += [f for f in check_text(block, t=t, where=f"{where} pre") if f.kind == "small_count"]
    if prose_counts("".join(scanner.prose), t):
        findings.append(Finding("small_count", f"{where} prose", f"a number below {t} written as a count of people"))
    shown = sum(1 for text in scanner.shown if prose_counts(text, t)
                or any(read_cell(text.strip()) == n for n in range(1, t)))
    if shown:
        findings.append(Finding("small_count", f"{where} attributes", f"{shown} hover text(s) or description(s) "
                                f"showing a number below {t} as a count of people"))
    if scanner.source_counts:
        findings.append(Finding("small_count", f"{where} attributes", f"{scanner.source_counts} attribute value(s) "
                                f"holding a number below {t} that no reader sees (the page's source is published)"))
    unreadable = charts.unreadable_images(scanner.image_sources)
    if unreadable:
        findings.append(Finding("unreadable_image", f"{where} image", f"{unreadable} image(s) that are not an SVG "
                                "this gate reads (a raster image or a file it does not load): their text is unread"))
    for svg in charts.svg_blocks(html):
        findings += [Finding(kind, f"{where} chart", message) for kind, message in charts.check_svg(svg, t=t, ids=ids)]
    if embedded and "data:" in html:
        findings += downloads.check(html, ids=ids, t=t, allowed=signed_columns(scanner.tables, clean), where=where)
    return findings


# ------------------------------------------------------------------------------- results, notebook


def _walk(obj: Any, path: tuple[str, ...]) -> Iterable[tuple[tuple[str, ...], Any]]:
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            yield (*path, str(key)), key
            yield from _walk(value, (*path, str(key)))
    elif isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            yield from _walk(value, (*path, str(i)))
    else:
        yield path, obj


def _leaves(obj: Any, path: tuple[str, ...]) -> Iterable[tuple[tuple[str, ...], Any]]:
    """Every value that is not a container, with its key path (keys themselves are not values)."""
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            yield from _leaves(value, (*path, str(key)))
    elif isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            yield from _leaves(value, (*path, str(i)))
    else:
        yield path, obj


def _coarse(value: float) -> bool:
    """A share stored no finer than the coarsest step it could have been rounded to: a multiple of
    one of ``SHARE_STEPS`` (0.55 yes, 0.536723163841808 no)."""
    return any(abs(value / step - round(value / step)) < 1e-9 for step in SHARE_STEPS)


def _as_number(value: Any) -> float | int | None:
    if isinstance(value, str):  # a count stored as text ("3") is still a count
        number = read_cell(value)
        if number is None:
            return None
        return int(number) if number.is_integer() and "." not in value and "," not in value else number
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


_RATIO_KEY = re.compile(r"share|ratio|rate|mean|per_1000|percent|pct|index|estimate|coef|p_value|pvalue|prob",
                        re.IGNORECASE)


def _declared_public(key: str) -> bool:
    from settlement_research.sdc.rendering import resolve_public

    try:
        resolve_public(key)
    except ValueError:
        return False
    return True


def check_results(results: Mapping[str, Any], *, ids: frozenset[str] = frozenset(), t: int | None = None,
                  clean: Clean | None = None) -> list[Finding]:
    """Identifiers in any key or value. Default deny for counts at any depth: a whole number 1..t-1
    (``3``, ``3.0``, ``"3"``, ``1.0``) is a count unless its key says it is something else
    (``context.key_is_not_a_count``: a year, seed, rank, share…) or the notebook listed the key
    under ``_public`` (a declared public statistic). Under the ``_sdc`` keys every whole number is a
    count, whatever its key, and a fraction must be stored no finer than ``rules.SHARE_STEPS``.
    With ``clean`` (the clean-process gate), a small number under a ``_public`` key must be one the
    public table publishes for the report's municipality (a year in its key path: that year's)."""
    t = threshold() if t is None else t
    findings: list[Finding] = []
    hits = sum(count_identifiers(str(v), ids) for _, v in _walk(results, ("results",)) if v is not None)
    if hits:
        findings.append(Finding("identifier", "results.json", f"{hits} identifier value(s) from the person-level data"))
    controlled = {str(k) for k in results.get(SDC_KEYS, []) or []}
    listed = results.get(PUBLIC_KEYS, []) or []
    public = {str(k) for k in listed} if isinstance(listed, Mapping | list) else set()
    windows = {str(k): (None if w is None else str(w)) for k, w in listed.items()} if isinstance(listed, Mapping) else {}
    undeclared = sorted(k for k in public if not _declared_public(k))
    if undeclared:  # save_results checks this; a notebook writing '_public' itself is not trusted
        findings.append(Finding("forged_mark", "results._public", f"{len(undeclared)} key(s) listed as public "
                                "that the models do not declare public"))
        public -= set(undeclared)
    leaves = [(path, _as_number(raw)) for path, raw in _leaves(results, ()) if path]
    fractional = {path[:-1] for path, v in leaves if v is not None and not float(v).is_integer()}
    unverified = 0
    for path, value in leaves:
        if path[0] in public and clean is not None and value is not None and not (
                isinstance(value, float) and math.isnan(value)) and not clean.public_ok(
                str(int(value)) if float(value).is_integer() else str(value), path[0], path=path[1:],
                window=windows.get(path[0])):
            unverified += 1
            continue
        if path[0] in public or path[0] in (SDC_KEYS, PUBLIC_KEYS):
            continue
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        where = "results." + ".".join(path)
        integral = float(value).is_integer()
        # 1.0 is a ratio of one only where its context says ratio: its key, or fractional siblings
        ratio = isinstance(value, float) and (path[:-1] in fractional or bool(_RATIO_KEY.search(".".join(path))))
        if path[0] in controlled:
            if integral and 0 < value < t and not ratio:
                findings.append(Finding("small_count", where, f"unsuppressed count below the threshold {t}"))
            elif not integral and not _coarse(float(value)):
                findings.append(Finding("precise_share", where, "a person-derived share stored at full precision"))
        elif integral and 0 < value < t and not ratio and not key_is_not_a_count(path, value):
            findings.append(Finding("small_count", where, f"a number below {t} under a key that does not say it is "
                                    "not a count (list a public statistic under _public)"))
    if unverified:
        findings.append(Finding("unverified_public", "results._public", f"{unverified} number(s) below {t} listed "
                                "as public that the public table does not publish for this report"))
    return findings


def notebook_text(nb: Mapping[str, Any]) -> str:
    """Everything of an executed notebook a reader sees, sources and outputs, without images."""
    parts: list[str] = []
    for cell in nb.get("cells", []):
        source = cell.get("source", "")
        parts.append(source if isinstance(source, str) else "".join(source))
        for output in cell.get("outputs", []):
            for key in ("text", "ename", "evalue", "traceback"):
                value = output.get(key)
                if value:
                    parts.append(value if isinstance(value, str) else "\n".join(map(str, value)))
            for mime, value in (output.get("data") or {}).items():
                if mime == "image/svg+xml":  # its text and attributes; its geometry number by number
                    parts.append(charts.for_lookup(value if isinstance(value, str) else "".join(map(str, value))))
                elif not mime.startswith("image/"):
                    parts.append(value if isinstance(value, str) else json.dumps(value))
    return "\n".join(parts)


# The API's per-render signatures are random hex and embedded downloads base64 (judged decoded, by
# .downloads): neither is shown, and a digit run in either can look like an id by chance.
_NOT_SHOWN = re.compile(SIG_ATTR + r'=\\?"[0-9a-f]*\\?"|data:[\w.+/-]+;base64,[A-Za-z0-9+/=%]+')


def _joined(value: Any) -> str:
    return value if isinstance(value, str) else "".join(map(str, value)) if isinstance(value, list) else json.dumps(value)


_SCRIPT = re.compile(r"<script\b|<[a-z][^>]*\son[a-z]+\s*=|<[a-z][^>]*=\s*[\"']?\s*javascript:|<iframe\b|<object\b|<embed\b",
                     re.IGNORECASE)  # markup only: a name that reads "javascript:" as escaped text is text
_STYLE = re.compile(r"<style\b[^>]*>(.*?)</style>", re.IGNORECASE | re.DOTALL)
_CSS_STRING = re.compile(r"\"([^\"]*)\"|'([^']*)'")
_CSS_COMPUTED = re.compile(r"\b(?:attr|counters?)\s*\(", re.IGNORECASE)


def _active_content(html: str, t: int, where: str) -> list[Finding]:
    """What an output makes the browser compute or draw rather than show: a script, an event
    handler or a frame (their text cannot be judged: default deny), and the strings a style sheet
    writes onto the page (``content: "3 persons"``), judged like prose."""
    findings = []
    if _SCRIPT.search(html):
        findings.append(Finding("unreadable_cell", where, "a script, event handler or frame in an output: what it "
                                "shows cannot be read"))
    for style in _STYLE.findall(html):
        style = _CSS_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)) if m.group(1) else m.group(2), style)  # "\\33" is 3
        if _CSS_COMPUTED.search(style):
            findings.append(Finding("unreadable_cell", where, "a style sheet writes text it computes (attr(), "
                                    "counter()): what it shows cannot be read"))
        for a, b in _CSS_STRING.findall(style):
            text = a or b
            if prose_counts(text, t) or any(read_cell(text.strip()) == n for n in range(1, t)):
                findings.append(Finding("small_count", where, f"a style sheet writes a number below {t} as a count"))
                break
    return findings


def check_notebook(nb: Mapping[str, Any], *, ids: frozenset[str] = frozenset(), t: int | None = None,
                   scope: provenance.Scope | None = None, clean: Clean | None = None,
                   verify_marks: bool = True) -> list[Finding]:
    """Identifiers anywhere in the notebook; small counts in its outputs as in the page (the
    notebook is published beside it and holds text/plain twins of every table); every SVG's text
    read like a chart's, and no raster image (its text cannot be read). ``scope``: the render's
    (its key verifies the marks)."""
    t = threshold() if t is None else t
    findings: list[Finding] = []
    hits = count_identifiers(_NOT_SHOWN.sub(" ", notebook_text(nb)), ids)
    if hits:
        findings.append(Finding("identifier", "notebook", f"{hits} identifier value(s) from the person-level data"))
    key = scope.key if scope is not None else None
    # embedded downloads in the outputs (the code is reviewed template text, its ids are looked up
    # above), judged against the columns signed anywhere in the notebook; the page is checked alike
    text = notebook_text({"cells": [{**c, "source": ""} for c in nb.get("cells", []) if c.get("cell_type") == "code"]})
    if "data:" in text:
        pages = [_joined(v) for c in nb.get("cells", []) for o in c.get("outputs", [])
                 for m, v in (o.get("data") or {}).items() if m in ("text/html", "text/markdown")]
        scanner = _Scanner(provenance.current().key if key is None else key, clean, verify_marks)
        scanner.feed("".join(pages))
        scanner.close()
        findings += downloads.check(text, ids=ids, t=t, allowed=signed_columns(scanner.tables, clean), where="notebook")
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":  # the template's own text: judged as prose
            findings += [f for f in check_html(_joined(cell.get("source", "")), t=t, where="notebook markdown", key=key,
                                               embedded=False, clean=clean, verify_marks=verify_marks)
                         if f.kind != "identifier"]
        for output in cell.get("outputs", []):
            raster = sorted(m for m in (output.get("data") or {}) if m in charts.RASTER_MIMES or (
                m.startswith("image/") and m != "image/svg+xml"))
            if raster:
                findings.append(Finding("unreadable_image", f"notebook {raster[0]}", "a raster image: the gate cannot "
                                        "read its text (charts are SVG with text as text, plots.set_theme)"))
            if output.get("output_type") == "stream":
                findings += [f for f in check_text(_joined(output.get("text", "")), t=t, where="notebook stream")
                             if f.kind != "identifier"]
            data = output.get("data") or {}
            for mime, value in data.items():
                text = _joined(value)
                if mime in ("text/html", "text/markdown", "image/svg+xml"):
                    findings += [f for f in check_html(text, t=t, where=f"notebook {mime}", key=key, embedded=False,
                                                       clean=clean, verify_marks=verify_marks)
                                 if f.kind != "identifier"]
                    findings += _active_content(text, t, f"notebook {mime}")
                elif mime == "text/plain" and "text/html" not in data and "text/markdown" not in data:
                    findings += [f for f in check_text(text, t=t, where="notebook text/plain") if f.kind != "identifier"]
    return findings


def audit_report(
    page: Path | None = None, results: Path | None = None, notebook: Path | None = None, *,
    t: int | None = None, ids: frozenset[str] | None = None, error: str | None = None,
    scope: provenance.Scope | None = None, clean: Clean | None = None, verify_marks: bool = True,
) -> list[Finding]:
    """Every finding in one rendered report's artefacts (missing files are skipped). ``scope``: the
    render's provenance (its key, the images and chart findings of the chart hook); default the
    current one. ``clean``/``verify_marks``: see :func:`check_html` (the clean-process gate)."""
    t = threshold() if t is None else t
    ids = identifier_values() if ids is None else ids
    scope = provenance.current() if scope is None else scope
    findings: list[Finding] = [Finding(kind, "chart", message) for kind, message in scope.chart_findings]
    if page is not None and page.is_file():
        findings += check_html(page.read_text("utf-8"), ids=ids, t=t, key=scope.key, clean=clean,
                               verify_marks=verify_marks)
    if results is not None and results.is_file():
        try:
            data = json.loads(results.read_text("utf-8"))
        except ValueError:
            findings.append(Finding("unreadable_cell", "results.json", "results.json is not valid JSON"))
        else:
            findings += check_results(data, ids=ids, t=t, clean=clean) if isinstance(data, Mapping) else []
    if notebook is not None and notebook.is_file():
        try:
            findings += check_notebook(json.loads(notebook.read_text("utf-8")), ids=ids, t=t, scope=scope,
                                       clean=clean, verify_marks=verify_marks)
        except ValueError:
            findings.append(Finding("unreadable_cell", "notebook", "the executed notebook is not valid JSON"))
    if error and count_identifiers(error, ids):
        findings.append(Finding("identifier", "error", "identifier value(s) in the error message"))
    if error and unlabelled_numbers(error, t):  # the message is on the page too, in its traceback
        findings.append(Finding("small_count", "error", f"a number below {t} in the error message that its label "
                                "does not say is not a count"))
    return findings


__all__ = [
    "PUBLIC_ATTR", "PUBLIC_KEYS", "SDC_KEYS", "Clean", "Finding", "audit_report", "check_html", "check_notebook", "check_results", "check_text",
    "count_identifiers", "candidates", "identifier_values", "json_identifiers", "normalise", "notebook_text", "parse_number", "scrub",
    "scrub_counts", "scrub_manifest", "tokens",
]
