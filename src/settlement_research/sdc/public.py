"""Public statistics checked against the data: a small number shown as public must be one.

Why: a cell marked ``data-sdc="public"`` (or a ``results.json`` key listed under ``_public``) may
show a number below the threshold because the models declare its column a published statistic
(IMDi's requests and decisions, population, centrality…). The label alone proves nothing: a template
can put a register count under the header "requested", and a template running in the renderer's
process can even sign the mark itself. So the clean-process gate (:mod:`.gate`) asks the data: the
small number must be a value the public table publishes *in the context it is shown in*:

- a row that holds a municipality code (the peers table, the batch index) or, failing that, the
  report's ``kommune_nr``: that municipality's values; with a year in the row, that year's value;
  without one, any year's value or the sum over any run of years (a window total);
- no municipality (notebook 01): the national values — sums over municipalities per year, the count
  of municipalities per category (``decision_status``) per year, and tables without municipalities
  (the region-pair coordination level, the national series).

Only numbers 1..t-1 need the check (a larger number is not disclosive by the count rule), so only
those are kept: the whole set for all 428 municipalities is a few thousand entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

YEAR_RANGE = range(1900, 2101)


@dataclass
class PublicValues:
    """The small values (1..t-1) each declared public column publishes, by context.

    ``values[(spec, kommune_nr, year)]``: ``kommune_nr`` is ``""`` for national values, ``year`` is
    ``None`` for values not tied to one year (a window sum, a municipality's class)."""

    t: int
    values: dict[tuple[str, str, int | None], set[float]] = field(default_factory=dict)
    specs: set[str] = field(default_factory=set)
    kommuner: set[str] = field(default_factory=set)
    by_year: set[str] = field(default_factory=set)  # specs whose table has a year
    national_only: set[str] = field(default_factory=set)  # specs whose table has no municipality
    no_register: bool = False  # no person-level table anywhere: no register count can pose as public

    def add(self, spec: str, kommune: str, year: int | None, value: float | None) -> None:
        if value is not None and 0 < value < self.t and float(value).is_integer():
            self.values.setdefault((spec, kommune, year), set()).add(float(value))

    def allows(self, value: float, *, column: str | None = None, kommuner: Sequence[str] = (),
               year: int | None = None) -> bool:
        """Whether ``value`` is published by ``column`` (a ``table.column``; None: any public column)
        for the first of ``kommuner`` found in the data (none: national), in ``year`` if given."""
        if self.no_register or not (0 < value < self.t and float(value).is_integer()):
            return True  # no register to leak, or not a small count: the count rule does not concern it
        specs = [column] if column else sorted(self.specs)
        places = [k for k in kommuner if k in self.kommuner] or [""]
        for spec in specs:
            years = [year] if year is not None and spec in self.by_year else [None]
            for place in ([""] if spec in self.national_only else places):
                if any(float(value) in self.values.get((spec, place, y), ()) for y in years):
                    return True
        return False

    def row_context(self, cells: Iterable[str], default: str | None = None) -> tuple[list[str], int | None]:
        """(municipality codes, year) that the texts of one table row name; without a code in the
        row, ``default`` (the report's municipality). A code that also reads as a year (1949, 2025)
        counts as a code and as no year (the looser reading: any year of that municipality); two
        different years in a row (a window) give no year."""
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


def _runs(by_year: dict[int, float], t: int) -> Iterable[float]:
    """Every sum over a run of consecutive years (nulls left out, as a window total does) below t."""
    years = sorted(by_year)
    for i in range(len(years)):
        total = 0.0
        for last in years[i:]:
            total += by_year[last]
            if total >= t:
                break
            yield total


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
    t = out.t
    rows = frame.select([c for c in ("kommune_nr", "year", col) if c in frame.columns]).drop_nulls(col)
    if has_k and has_y:
        per: dict[str, dict[int, float]] = {}
        for k, y, v in rows.iter_rows():
            out.add(spec, k, y, v)
            per.setdefault(k, {})[y] = per.setdefault(k, {}).get(y, 0.0) + float(v)
        for k, by_year in per.items():
            for total in _runs(by_year, t):
                out.add(spec, k, None, total)
        national = rows.group_by("year").agg(pl.col(col).sum())
        for y, v in national.iter_rows():
            out.add(spec, "", y, v)
            out.add(spec, "", None, v)
    elif has_k:
        for k, v in rows.iter_rows():
            out.add(spec, k, None, v)
    elif has_y:
        for y, v in rows.iter_rows():
            out.add(spec, "", y, v)
            out.add(spec, "", None, v)
    else:
        for (v,) in rows.iter_rows():
            out.add(spec, "", None, v)


def _categorical(out: PublicValues, frame: object, spec: str, col: str, has_k: bool, has_y: bool) -> None:
    """A published category: what may be shown is how many rows (municipalities, years) have it."""
    import polars as pl

    assert isinstance(frame, pl.DataFrame)
    rows = frame.drop_nulls(col)
    if has_y:
        for y, _, n in rows.group_by(["year", col]).len().iter_rows():
            out.add(spec, "", y, n)
            out.add(spec, "", None, n)
    if has_k:
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


__all__ = ["PublicValues", "for_report", "load"]
