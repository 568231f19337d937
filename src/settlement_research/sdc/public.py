"""Public statistics checked against the data: a small number shown as public must be one.

Why: a cell marked ``data-sdc="public"`` (or a ``results.json`` key listed under ``_public``) may
show a number below the threshold because the models declare its column a published statistic
(IMDi's requests and decisions, population, centrality…). The label alone proves nothing: a template
can put a register count under the header "requested", and a template running in the renderer's
process can even sign the mark itself. So the clean-process gate (:mod:`.gate`) asks the data: the
small number must be a value the public table publishes *in the context it is shown in*:

- a row that holds a municipality code (the peers table, the batch index) or, failing that, the
  report's ``kommune_nr``: that municipality's values; no municipality (notebook 01): the national
  values — sums over municipalities per year, the count of municipalities per category
  (``decision_status``) per year, and tables without municipalities;
- a column whose table has years is published *per year*, so its number must name the years it
  covers: a year in its row (or results.json key path), or its window, which the disclosure API
  writes into the mark (``data-sdc-public-years="2009–2014"``; ``_public: {"requested": "2009–2014"}``
  in results.json). It is allowed only if it equals the sum over exactly that window (years without
  a value left out, as a window total does; for a category, the number of years or municipalities
  with it). A number of such a column that names neither is refused: a register count of 3 would
  otherwise pass whenever any year's value or any run of years' sum of the municipality is 3, which
  on the demo data holds for 10 of the 12 municipalities with 1-4 settled persons.

Only numbers 1..t-1 need the check (a larger number is not disclosive by the count rule).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

YEAR_RANGE = range(1900, 2101)
WINDOW_ATTR = "data-sdc-public-years"  # on a public mark: the year or window (first–last) its number covers
_WINDOW = re.compile(r"\s*(\d{4})\s*(?:[-\u2013]\s*(\d{4}))?\s*")

Window = tuple[int, int]


def parse_window(text: object) -> Window | None:
    """``"2012"`` or ``"2009-2014"`` (also with an en dash) -> (first, last); anything else None."""
    match = _WINDOW.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    first, last = int(match.group(1)), int(match.group(2) or match.group(1))
    return (first, last) if first in YEAR_RANGE and last in YEAR_RANGE and first <= last else None


def window_text(window: int | str | Sequence[int]) -> str:
    """The mark's text for a year or a (first, last) window: ``"2012"``, ``"2009–2014"`` (an en dash,
    as the page writes a span: ``2009-2014`` would read as one digit group, and the scrub of
    manifest.json takes an 8-digit group for an identifier). Refuses anything that is not one (a
    public number must say which years it covers)."""
    if isinstance(window, int) and not isinstance(window, bool):
        parsed = parse_window(str(window))
    elif isinstance(window, str):
        parsed = parse_window(window)
    else:
        pair = [str(int(w)) for w in window]
        parsed = parse_window("-".join(pair)) if len(pair) == 2 else None
    if parsed is None:
        raise ValueError(f"not a year or a window of years (first, last): {window!r}")
    first, last = parsed
    return str(first) if first == last else f"{first}\u2013{last}"


@dataclass
class PublicValues:
    """The values each declared public column publishes, by context.

    ``values[(spec, kommune_nr, None)]``: the small values (1..t-1) of a column whose table has no
    year (a municipality's class, the region pairs' level); ``series[(spec, kommune_nr)]``: the
    yearly values of a column whose table has years, all of them (a window's sum needs every year),
    one series per category for a categorical column. ``kommune_nr`` is ``""`` for national values."""

    t: int
    values: dict[tuple[str, str, int | None], set[float]] = field(default_factory=dict)
    specs: set[str] = field(default_factory=set)
    kommuner: set[str] = field(default_factory=set)
    by_year: set[str] = field(default_factory=set)  # specs whose table has a year
    national_only: set[str] = field(default_factory=set)  # specs whose table has no municipality
    no_register: bool = False  # no person-level table anywhere: no register count can pose as public
    series: dict[tuple[str, str], list[dict[int, float]]] = field(default_factory=dict)

    def add(self, spec: str, kommune: str, year: int | None, value: float | None) -> None:
        """A published value: with a year, added to that year of the place's series (rows of one
        year add up); without one, kept when small."""
        if value is None:
            return
        if year is not None:
            series = self.series.setdefault((spec, kommune), [{}])[0]
            series[int(year)] = series.get(int(year), 0.0) + float(value)
        elif 0 < value < self.t and float(value).is_integer():
            self.values.setdefault((spec, kommune, None), set()).add(float(value))

    def add_series(self, spec: str, kommune: str, by_year: dict[int, float]) -> None:
        """One more yearly series of a place (a categorical column: one per category)."""
        self.series.setdefault((spec, kommune), []).append({int(y): float(v) for y, v in by_year.items()})

    def window_sums(self, spec: str, kommune: str, window: Window) -> set[float]:
        """The sums over exactly ``window`` of the place's series (years without a value left out;
        a series without any value in the window has no sum)."""
        first, last = window
        out = set()
        for series in self.series.get((spec, kommune), ()):
            inside = [v for y, v in series.items() if first <= y <= last]
            if inside:
                out.add(float(sum(inside)))
        return out

    def allows(self, value: float, *, column: str | None = None, kommuner: Sequence[str] = (),
               year: int | None = None, window: Window | None = None) -> bool:
        """Whether ``value`` is published by ``column`` (a ``table.column``; None: any public column)
        for the first of ``kommuner`` found in the data (none: national). For a column with years:
        the value of ``year`` (the row's) or the sum over ``window`` (the mark's); nothing when the
        number names neither, or the two disagree."""
        if self.no_register or not (0 < value < self.t and float(value).is_integer()):
            return True  # no register to leak, or not a small count: the count rule does not concern it
        if window is None and year is not None:
            window = (year, year)
        elif window is not None and year is not None and window != (year, year):
            return False  # the row says one year, the mark another span
        specs = [column] if column else sorted(self.specs)
        places = [k for k in kommuner if k in self.kommuner] or [""]
        for spec in specs:
            for place in ([""] if spec in self.national_only else places):
                if spec in self.by_year:
                    if window is not None and float(value) in self.window_sums(spec, place, window):
                        return True
                elif float(value) in self.values.get((spec, place, None), ()):
                    return True
        return False

    def row_context(self, cells: Iterable[str], default: str | None = None) -> tuple[list[str], int | None]:
        """(municipality codes, year) that the texts of one table row name; without a code in the
        row, ``default`` (the report's municipality). A code that also reads as a year (1949, 2025)
        counts as a code and as no year here; it may still be the row's year (:meth:`coded_years`);
        two different years in a row (a window) give no year."""
        kommuner, ambiguous, years = [], [], set()
        for text in cells:
            text = text.strip()
            if text in self.kommuner:
                (ambiguous if len(text) == 4 and text.isdigit() and int(text) in YEAR_RANGE else kommuner).append(text)
            elif len(text) == 4 and text.isdigit() and int(text) in YEAR_RANGE:
                years.add(int(text))
        if not kommuner:
            kommuner = [*([default] if default else []), *ambiguous]
        return kommuner, (years.pop() if len(years) == 1 else None)

    def coded_years(self, cells: Iterable[str]) -> list[int]:
        """The texts of a row that are a municipality code and a year at once (synthetic 2010, real
        2012 Alta): in a row without another year (a yearly table), each may be the row's year."""
        return sorted({int(text.strip()) for text in cells if text.strip() in self.kommuner
                       and len(text.strip()) == 4 and text.strip().isdigit() and int(text.strip()) in YEAR_RANGE})


_CACHE: dict[tuple[str, int, tuple[tuple[str, int, int], ...]], PublicValues] = {}


def load(folder: Path, t: int) -> PublicValues:
    """The public values of one source folder of data_clean (kept per process while unchanged)."""
    import polars as pl

    from settlement_research.model import public_columns

    declared = public_columns()
    files = [(folder / f"{table}.parquet", table, cols) for table, cols in declared.items()]
    files = [f for f in files if f[0].is_file()]
    key = (str(folder), t, tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p, _, _ in files))
    if key in _CACHE:
        return _CACHE[key]
    out = PublicValues(t)
    for path, table, cols in files:
        names = pl.read_parquet_schema(path)
        present = [c for c in cols if c in names]
        if not present:
            continue
        keys = [c for c in ("kommune_nr", "year") if c in names]
        frame = pl.read_parquet(path, columns=list(dict.fromkeys([*keys, *present])))
        has_k, has_y = "kommune_nr" in keys, "year" in keys
        if has_k:
            out.kommuner.update(frame["kommune_nr"].cast(pl.String).drop_nulls().to_list())
        for col in present:
            spec = f"{table}.{col}"
            out.specs.add(spec)
            if has_y:
                out.by_year.add(spec)
            if not has_k:
                out.national_only.add(spec)
            dtype = frame.schema[col]
            if dtype.is_numeric():
                _numeric(out, frame, spec, col, has_k, has_y)
            else:
                _categorical(out, frame, spec, col, has_k, has_y)
    _CACHE.clear()
    _CACHE[key] = out
    return out


def _numeric(out: PublicValues, frame: object, spec: str, col: str, has_k: bool, has_y: bool) -> None:
    import polars as pl

    assert isinstance(frame, pl.DataFrame)
    rows = frame.select([c for c in ("kommune_nr", "year", col) if c in frame.columns]).drop_nulls(col)
    if has_k and has_y:
        for k, y, v in rows.iter_rows():
            out.add(spec, k, y, v)
        for y, v in rows.group_by("year").agg(pl.col(col).sum()).iter_rows():
            out.add(spec, "", y, v)
    elif has_k:
        for k, v in rows.iter_rows():
            out.add(spec, k, None, v)
    elif has_y:
        for y, v in rows.iter_rows():
            out.add(spec, "", y, v)
    else:
        for (v,) in rows.iter_rows():
            out.add(spec, "", None, v)


def _categorical(out: PublicValues, frame: object, spec: str, col: str, has_k: bool, has_y: bool) -> None:
    """A published category: what may be shown is how many rows (municipalities, years) have it."""
    import polars as pl

    assert isinstance(frame, pl.DataFrame)
    rows = frame.drop_nulls(col)
    if has_y:  # per category: how many rows (municipalities) have it each year; in one municipality, 1 a year
        national: dict[object, dict[int, float]] = {}
        for y, c, n in rows.group_by(["year", col]).len().iter_rows():
            national.setdefault(c, {})[y] = float(n)
        for by_year in national.values():
            out.add_series(spec, "", by_year)
        if has_k:
            per: dict[tuple[str, object], dict[int, float]] = {}
            for k, y, c in rows.select("kommune_nr", "year", col).iter_rows():
                per.setdefault((k, c), {})[y] = 1.0
            for (k, _), by_year in per.items():
                out.add_series(spec, k, by_year)
    elif has_k:
        for k, _, n in rows.group_by(["kommune_nr", col]).len().iter_rows():
            out.add(spec, k, None, n)


def for_report(parameters: dict[str, str], declared: dict[str, str] | None, t: int,
               clean_dir: Path | None = None) -> PublicValues:
    """The public values of the source a report reads (its parameter, else the template's default,
    else the catalog's); empty when that source is not built."""
    from settlement_research.errors import SettlementResearchError
    from settlement_research.paths import data_clean_dir
    from settlement_research.reports.parameters import effective_source

    try:
        source = effective_source(parameters, declared or {})
    except SettlementResearchError:
        return PublicValues(t)
    folder = Path(clean_dir or data_clean_dir()) / source
    return load(folder, t) if folder.is_dir() and "/" not in source and source not in ("", ".", "..") else PublicValues(t)


__all__ = ["WINDOW_ATTR", "PublicValues", "Window", "for_report", "load", "parse_window", "window_text"]
