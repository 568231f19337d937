"""Municipality code changes: one representation (``ChangeTable``) and one parser for every source.

Why one parser: the shipped table, a KLASS ``changes`` response (file, payload, the frame of
``sources.klass`` or the KLASS responses cached by ``fetch`` in ``data_raw/klass``), a hand-made
CSV and FHI's csdata workbook all become the same rows (``CHANGE_SCHEMA``) through ``normalise``,
so the same checks apply to all of them: 4-digit codes, changes on 1 January, no identity rows.

A change effective 1 January of year Y means data classified in Y-1 still use the old code.
``ChangeTable.mapping`` composes the changes into (old code at from_year) -> [(code at to_year,
weight)]. Splits: when the split row names the earlier codes whose territory is exactly that part
(``exact_from``: Haram 2024 = 1534 Haram of 2019), data that came through one of those codes map
there whole; otherwise weights are needed (population, else the table's weight, else equal), and
the row says which (``split_method``), so estimates are never silent.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from settlement_research.errors import DataError
from settlement_research.geo import codes as geo_codes
from settlement_research.textio import read_csv_frame

SHIPPED_CHANGES = "kommune_changes.csv"
SHIPPED_CODES = geo_codes.SHIPPED_CODES
CODES_SCHEMA = geo_codes.CODES_SCHEMA
# Effective years (1 January) the shipped table records: complete from 1994 (1992: the mergers of
# the codes IMDi's files use); no change took effect in 2025.
SHIPPED_COVERAGE = (1992, 2025)

CHANGE_SCHEMA: dict[str, Any] = {
    "old_code": pl.String, "old_name": pl.String, "new_code": pl.String, "new_name": pl.String,
    "year": pl.Int16, "weight": pl.Float64, "kind": pl.String, "note": pl.String, "exact_from": pl.String,
}
# kind: what happened to old_code (null when the source does not say, e.g. KLASS).
KINDS = ("merged", "renumbered", "split")
SPLIT_POPULATION = "split_population"
SPLIT_TABLE_WEIGHT = "split_table_weight"
SPLIT_EQUAL = "split_equal"
UNKNOWN_CODE = "unknown_code"
MAPPING_SCHEMA: dict[str, Any] = {
    "old_code": pl.String, "new_code": pl.String, "weight": pl.Float64, "split_method": pl.String,
}
_CODE_RE = r"^[0-9]{4}$"


class HarmonizeError(DataError, ValueError):
    """The data cannot be harmonised honestly (unknown code, gap in the change table, ...)."""


_State = dict[str, tuple[float, frozenset[str], frozenset[str]]]  # code -> (weight, methods, lineage)


@dataclass(frozen=True)
class ChangeTable:
    """Code changes (one row per old -> new edge, effective 1 January of ``year``).

    ``codes`` (code, name, valid_from, valid_to) lists which codes exist in which classification
    years, when known: then codes invalid in their year are caught instead of passed through.
    ``coverage`` = (first, last) effective year recorded, when known.
    """

    changes: pl.DataFrame
    codes: pl.DataFrame | None = None
    coverage: tuple[int, int] | None = None
    source: str = ""

    @cached_property
    def _events(self) -> dict[int, dict[str, list[tuple[str | None, float | None, frozenset[str]]]]]:
        """year -> old code -> [(new code, table weight, codes the part is exactly)]."""
        events: dict[int, dict[str, list[tuple[str | None, float | None, frozenset[str]]]]] = defaultdict(dict)
        for row in self.changes.iter_rows(named=True):
            targets = events[int(row["year"])].setdefault(row["old_code"], [])
            if all(t != row["new_code"] for t, _, _ in targets):
                exact = frozenset((row.get("exact_from") or "").split("+")) - {""}
                targets.append((row["new_code"], row["weight"], exact))
        return dict(events)

    @cached_property
    def change_years(self) -> dict[str, list[int]]:
        """code -> sorted effective years in which it is an old or a new code of a change."""
        years: dict[str, set[int]] = defaultdict(set)
        for old, new, year in self.changes.select("old_code", "new_code", "year").iter_rows():
            years[old].add(int(year))
            if new is not None:
                years[new].add(int(year))
        return {c: sorted(ys) for c, ys in years.items()}

    def codes_at(self, year: int) -> list[str]:
        """The codes valid in classification ``year`` (needs the code list)."""
        if self.codes is None:
            raise HarmonizeError(f"the change table from {self.source or 'input'} has no code list")
        valid = self.codes.filter(
            (pl.col("valid_from").is_null() | (pl.col("valid_from") <= year))
            & (pl.col("valid_to").is_null() | (pl.col("valid_to") >= year))
        )
        return sorted(valid["code"].unique().to_list())

    def _check_span(self, from_year: int, to_year: int) -> None:
        if to_year < from_year:
            raise HarmonizeError(
                f"cannot harmonise backwards (classification {from_year} -> {to_year}): "
                "a merge cannot be undone without person-level data"
            )
        if self.coverage and from_year < to_year:
            first, last = self.coverage
            if from_year + 1 < first or to_year > last:
                raise HarmonizeError(
                    f"the change table ({self.source}) records changes effective {first}-{last} only; "
                    f"classification {from_year} -> {to_year} needs {from_year + 1}-{to_year}. "
                    "Pass changes= (e.g. a KLASS changes file) covering that span."
                )

    def stable_until(self, code: str, year: int) -> float:
        """Last classification year in which ``code`` still denotes the unit it denoted in ``year``."""
        later = [y for y in self.change_years.get(code, []) if y > year]
        return later[0] - 1 if later else math.inf

    _stable_until = stable_until  # the name harmonize used

    def mapping(
        self,
        from_year: int,
        to_year: int,
        codes: Iterable[str] | None = None,
        weights: pl.DataFrame | None = None,
    ) -> pl.DataFrame:
        """(old_code valid in from_year) -> (new_code in to_year, weight, split_method).

        ``codes`` defaults to every code of ``from_year`` (needs the code list). Codes not valid
        in ``from_year`` (when the code list is known) map to a null new_code with split_method
        ``unknown_code``. Weights of one old code sum to 1; split_method is null where the
        mapping is exact.
        """
        self._check_span(from_year, to_year)
        start = list(set(codes)) if codes is not None else self.codes_at(from_year)
        bad = [c for c in start if not geo_codes.is_code(c)]
        if bad:
            raise HarmonizeError(f"municipality codes must be 4 digits (never padded here): {bad[:10]}")
        start.sort()
        valid = set(self.codes_at(from_year)) if self.codes is not None else None
        population = _population_index(weights) if weights is not None else None
        rows: list[tuple[str, str | None, float, str | None]] = []
        steps = sorted(y for y in self._events if from_year < y <= to_year)
        for code in start:
            if valid is not None and code not in valid:
                rows.append((code, None, 1.0, UNKNOWN_CODE))
                continue
            state: _State = {code: (1.0, frozenset(), frozenset({code}))}
            for year in steps:
                state = self._step(state, year, population)
            for new, (w, methods, _) in sorted(state.items()):
                rows.append((code, new, w, ";".join(sorted(methods)) or None))
        return pl.DataFrame(rows, schema=MAPPING_SCHEMA, orient="row")

    def _step(
        self, state: _State, year: int, population: dict[str, list[tuple[int, int, float]]] | None,
    ) -> _State:
        events = self._events[year]
        out: _State = {}
        for cur, (w, methods, lineage) in state.items():
            targets = [(cur, 1.0, None)] if cur not in events else self._resolved(cur, year, lineage, population)
            for new, share, method in targets:
                if new is None:
                    raise HarmonizeError(f"code {cur} was discontinued in {year} without a successor")
                old_w, old_m, old_l = out.get(new, (0.0, frozenset(), frozenset()))
                extra = frozenset({method}) if method else frozenset()
                out[new] = (old_w + w * share, old_m | methods | extra, old_l | lineage | {new})
        return out

    def _resolved(
        self, code: str, year: int, lineage: frozenset[str],
        population: dict[str, list[tuple[int, int, float]]] | None,
    ) -> list[tuple[str | None, float, str | None]]:
        """The successors of ``code`` at ``year`` with weights summing to 1 and the split method."""
        targets = self._events[year][code]
        if len(targets) == 1:
            return [(targets[0][0], 1.0, None)]
        exact = [t for t, _, parts in targets if parts & lineage]
        if len(exact) == 1:
            return [(exact[0], 1.0, None)]
        if population is not None:
            pops = [_lookup_population(population, t, year, self.stable_until(t, year)) if t else None
                    for t, _, _ in targets]
            if all(p is not None and p > 0 for p in pops):
                total = sum(pops)  # type: ignore[arg-type]
                return [(t, p / total, SPLIT_POPULATION) for (t, _, _), p in zip(targets, pops, strict=True)]  # type: ignore[operator]
        table_w = [w for _, w, _ in targets]
        if all(w is not None and w > 0 for w in table_w):
            total = sum(table_w)  # type: ignore[arg-type]
            return [(t, w / total, SPLIT_TABLE_WEIGHT) for t, w, _ in targets]  # type: ignore[operator]
        return [(t, 1.0 / len(targets), SPLIT_EQUAL) for t, _, _ in targets]

    @cached_property
    def renumberings(self) -> dict[tuple[str, int], str]:
        """(old code, effective year) -> new code, for changes that only renumbered a municipality.

        The table's ``kind`` decides where it is given; otherwise a change with one successor that
        has no other predecessor, and (when the code list is known) did not exist the year before
        (0716 Re kept Våle's code and absorbed Ramnes: 0718 -> 0716 is a merge).
        """
        succ: dict[tuple[str, int], set[str]] = defaultdict(set)
        pred: dict[tuple[str, int], set[str]] = defaultdict(set)
        kinds: dict[tuple[str, int], set[str | None]] = defaultdict(set)
        for old, new, year, kind in self.changes.select("old_code", "new_code", "year", "kind").iter_rows():
            if new is None:
                continue
            succ[(old, int(year))].add(new)
            pred[(new, int(year))].add(old)
            kinds[(old, int(year))].add(kind)
        out: dict[tuple[str, int], str] = {}
        existed: dict[int, set[str]] = {}
        for (old, year), news in succ.items():
            (new, *more) = sorted(news)
            if more or pred[(new, year)] != {old}:
                continue
            known = kinds[(old, year)] - {None}
            if known:
                if known == {"renumbered"}:
                    out[(old, year)] = new
                continue
            if year - 1 not in existed:
                existed[year - 1] = set(self.codes_at_or_none(year - 1))
            if new not in existed[year - 1]:
                out[(old, year)] = new
        return out

    def codes_at_or_none(self, year: int) -> list[str]:
        """``codes_at`` when the table has a code list, else []."""
        return self.codes_at(year) if self.codes is not None else []

    def with_known_parts(self, known: ChangeTable | None = None) -> ChangeTable:
        """This table with ``exact_from`` filled from ``known`` (default: the shipped table) where
        both record the same split edge (same old code, new code and year)."""
        ref = (known or shipped_changes()).changes.filter(pl.col("exact_from").is_not_null())
        if ref.is_empty():
            return self
        parts = ref.select("old_code", "new_code", "year", pl.col("exact_from").alias("_known"))
        merged = self.changes.join(parts, on=["old_code", "new_code", "year"], how="left", nulls_equal=True)
        changes = merged.with_columns(pl.coalesce("exact_from", "_known").alias("exact_from")).drop("_known")
        return ChangeTable(changes.select(list(CHANGE_SCHEMA)), codes=self.codes, coverage=self.coverage, source=self.source)


def _population_index(weights: pl.DataFrame | pl.LazyFrame) -> dict[str, list[tuple[int, int, float]]]:
    """code -> [(classification_year, year, population)] from a kommune_context_year-like frame."""
    df = weights.collect() if isinstance(weights, pl.LazyFrame) else weights
    value = "population" if "population" in df.columns else "weight"
    if value not in df.columns or "kommune_nr" not in df.columns:
        raise HarmonizeError("weights need columns kommune_nr, classification_year/year and population (or weight)")
    year = "year" if "year" in df.columns else "classification_year"
    cls = "classification_year" if "classification_year" in df.columns else year
    index: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
    rows = df.select("kommune_nr", pl.col(cls).alias("_cy"), pl.col(year).alias("_y"), value).drop_nulls()
    for code, cy, y, v in rows.iter_rows():
        index[code].append((int(cy), int(y), float(v)))
    return dict(index)


def _lookup_population(
    index: dict[str, list[tuple[int, int, float]]], code: str, year: int, until: float
) -> float | None:
    """Population of ``code`` as the unit created in ``year``: the row classified closest after."""
    rows = [r for r in index.get(code, []) if year <= r[0] <= until]
    if not rows:
        return None
    return min(rows, key=lambda r: (r[0] - year, abs(r[1] - year)))[2]


# --------------------------------------------------------------------------------------------
# the one parser
# --------------------------------------------------------------------------------------------

_ALIASES = {"oldCode": "old_code", "newCode": "new_code", "oldName": "old_name", "newName": "new_name",
            "changeOccurred": "change_date"}


def normalise(df: pl.DataFrame) -> pl.DataFrame:
    """Any accepted change layout -> ``CHANGE_SCHEMA``; identity and code-less rows dropped.

    Accepts old_code/new_code (or KLASS's oldCode/newCode) with year, or change_date as a Date
    or an ISO text (KLASS ``changeOccurred``), optional names, weight, note and exact_from.
    """
    df = df.rename({c: c.strip().lstrip("\ufeff") for c in df.columns})
    df = df.rename({k: v for k, v in _ALIASES.items() if k in df.columns})
    if "year" not in df.columns:
        if "change_date" not in df.columns:
            raise HarmonizeError("a change table needs old_code, new_code and year (or change_date)")
        date = pl.col("change_date")
        df = df.with_columns(
            (date.dt.year() if df.schema["change_date"] == pl.Date else date.cast(pl.String).str.slice(0, 4))
            .alias("year")
        )
        months = df.filter(pl.col("change_date").cast(pl.String).str.slice(5, 5) != "01-01")
        if months.height:
            raise HarmonizeError(
                f"changes not on 1 January cannot be mapped to a classification year: {months.head(3).to_dicts()}"
            )
    missing = [c for c in ("old_code", "new_code") if c not in df.columns]
    if missing:
        raise HarmonizeError(f"a change table needs columns old_code, new_code: missing {missing}")
    out = df.select(
        [pl.col(c).cast(t, strict=True) if c in df.columns else pl.lit(None, t).alias(c)
         for c, t in CHANGE_SCHEMA.items()]
    ).with_columns(pl.col("old_code", "new_code").str.strip_chars(), pl.col("exact_from", "kind", "note").replace("", None))
    out = out.filter(pl.col("old_code").is_not_null() & (pl.col("old_code") != pl.col("new_code")).fill_null(True))
    parts_ok = pl.col("exact_from").fill_null("0000").str.contains(r"^[0-9]{4}(\+[0-9]{4})*$")
    bad = out.filter(
        ~pl.col("old_code").str.contains(_CODE_RE) | ~pl.col("new_code").fill_null("0000").str.contains(_CODE_RE)
        | ~parts_ok
    )
    kinds = out.filter(pl.col("kind").is_not_null() & ~pl.col("kind").is_in(list(KINDS)))
    if kinds.height:
        raise HarmonizeError(f"change kinds must be one of {KINDS}: {kinds['kind'].unique().to_list()[:5]}")
    if bad.height:
        raise HarmonizeError(
            "change table codes must be 4 digits ('0301'; never padded here): "
            f"{bad.select('old_code', 'new_code', 'exact_from').head(5).rows()}"
        )
    return out.unique(["old_code", "new_code", "year"], keep="first", maintain_order=True).sort("year", "old_code", "new_code")


def _read_text_csv(path: Path) -> pl.DataFrame:
    return read_csv_frame(path, comment_prefix="#")


# --------------------------------------------------------------------------------------------
# readers
# --------------------------------------------------------------------------------------------

def load_changes(source: ChangeTable | str | Path | pl.DataFrame | pl.LazyFrame | None = None) -> ChangeTable:
    """A ChangeTable from the shipped table (None), a file, a folder or a frame.

    Files: ``.xlsx`` FHI csdata locations; ``.json`` KLASS ``/changes`` response; ``.csv`` with
    old_code, new_code and year or change_date (weight, names, note, exact_from optional; '#'
    lines are comments); ``.parquet`` like the CSV. A folder: the KLASS responses cached by
    ``fetch`` (``data_raw`` or ``data_raw/klass``). Frames: the same columns, or the KLASS frame
    of ``sources.klass`` (change_date as Date), or FHI's columns. KLASS and FHI tables get the
    exact split parts of the shipped table (``ChangeTable.with_known_parts``).
    """
    if source is None:
        return shipped_changes()
    if isinstance(source, ChangeTable):
        return source
    if isinstance(source, pl.LazyFrame | pl.DataFrame):
        df = source.collect() if isinstance(source, pl.LazyFrame) else source
        if "municip_code_end" in df.columns:
            return _fhi_table(df, "FHI frame").with_known_parts()
        table = ChangeTable(normalise(df), source="frame")
        return table.with_known_parts() if "change_date" in df.columns else table
    path = Path(source)
    if path.is_dir():
        return read_klass_cache(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls"):
        return read_fhi(path)
    if suffix == ".json":
        return read_klass_changes(path)
    if suffix in (".parquet", ".pq"):
        return ChangeTable(normalise(pl.read_parquet(path)), source=str(path))
    if suffix in (".csv", ".txt"):
        return ChangeTable(normalise(_read_text_csv(path)), source=str(path))
    raise HarmonizeError(f"cannot read a change table from {path}: use .csv, .json, .xlsx, .parquet or a KLASS folder")


@lru_cache(maxsize=1)
def shipped_changes() -> ChangeTable:
    """The change table shipped with the package (``geo/data``; facts of KLASS 131, see its header)."""
    changes = geo_codes.read_shipped_csv(SHIPPED_CHANGES)
    return ChangeTable(
        normalise(changes),
        codes=geo_codes.code_list().select(*CODES_SCHEMA),
        coverage=SHIPPED_COVERAGE,
        source=f"settlement_research/geo/data/{SHIPPED_CHANGES}",
    )


def shipped_code_list() -> pl.DataFrame:
    """The shipped code list with every column: code, name, valid_from, valid_to, county_name."""
    return geo_codes.code_list()


def read_klass_changes(path_or_payload: str | Path | Mapping[str, Any]) -> ChangeTable:
    """A KLASS ``/classifications/131/changes`` response (file or parsed payload)."""
    from settlement_research.sources.klass import MUNICIPALITIES, parse_changes

    if isinstance(path_or_payload, Mapping):
        payload, where = path_or_payload, "KLASS payload"
    else:
        payload, where = json.loads(Path(path_or_payload).read_text("utf-8-sig")), str(path_or_payload)
    try:
        frame = parse_changes(payload, MUNICIPALITIES)
    except ValueError as exc:
        raise HarmonizeError(f"{where}: {exc}") from exc
    return ChangeTable(normalise(frame), source=where).with_known_parts()


def klass_code_list(codes: pl.DataFrame) -> pl.DataFrame:
    """A KLASS codes frame (``sources.klass.parse_codes`` or ``read_codes``) as a code list.

    KLASS's validTo is the first day a code is no longer valid, so its year minus one is the last
    classification year. ``codesAt`` snapshots (a ``valid_at`` column) give each code the years it
    was seen, open-ended when it is in the latest snapshot. 9999 and other non-municipal codes
    are left out.
    """
    codes = codes.filter(pl.col("code").map_elements(geo_codes.is_municipality, return_dtype=pl.Boolean))
    if "valid_at" in codes.columns:
        latest = codes["valid_at"].max()
        out = codes.group_by("code").agg(
            pl.col("name").sort_by("valid_at").last(), pl.col("valid_at").dt.year().min().alias("valid_from"),
            pl.when(pl.col("valid_at").max() == latest).then(None)
            .otherwise(pl.col("valid_at").dt.year().max()).first().alias("valid_to"),
        )
    else:
        out = codes.select(
            "code", "name", pl.col("valid_from").dt.year().alias("valid_from"),
            pl.col("valid_to").dt.offset_by("-1d").dt.year().alias("valid_to"),
        )
    return out.select([pl.col(c).cast(t) for c, t in CODES_SCHEMA.items()]).sort("code", "valid_from")


def _klass_coverage(raw_dir: Path) -> tuple[int, int] | None:
    """(first, last) effective year the cached ``changes`` requests asked for (from/to dates)."""
    from settlement_research.sources import klass
    from settlement_research.sources.http import cached_responses

    folder = raw_dir / klass.SOURCE_NAME if (raw_dir / klass.SOURCE_NAME).is_dir() else raw_dir
    spans = [
        (int(str(prov["from"])[:4]), int(str(prov["to"])[:4]))
        for _path, prov in cached_responses(folder)
        if prov.get("kind") == "changes" and str(prov.get("classification")) == str(klass.MUNICIPALITIES)
        and prov.get("from") and prov.get("to")
    ]
    return (min(a for a, _ in spans), max(b for _, b in spans)) if spans else None


def read_klass_cache(raw_dir: str | Path) -> ChangeTable:
    """The KLASS 131 responses ``fetch`` cached (``data_raw/klass``) as a ChangeTable.

    Changes from every cached ``changes`` response (coverage: the years they asked for); the code
    list from the cached ``codesAt`` responses when there are any.
    """
    from settlement_research.sources import klass

    frame = klass.read_changes(Path(raw_dir), klass.MUNICIPALITIES)
    if frame.is_empty():
        raise HarmonizeError(f"no cached KLASS 131 changes responses in {raw_dir} (run fetch first)")
    cached = klass.read_codes(Path(raw_dir), klass.MUNICIPALITIES)
    code_list = klass_code_list(cached) if cached.height else None
    return ChangeTable(normalise(frame), codes=code_list, coverage=_klass_coverage(Path(raw_dir)),
                       source=f"KLASS cache {raw_dir}").with_known_parts()


def with_fetched(raw_dir: str | Path, base: ChangeTable | None = None) -> ChangeTable:
    """The shipped table (or ``base``) extended by the KLASS changes ``fetch`` cached in ``raw_dir``.

    Inside the shipped coverage KLASS must agree with it edge for edge (a disagreement is an error
    naming the edges: one of the two is wrong and nobody should pick silently); KLASS changes after
    it (a reform after 2025) are added and extend the coverage. Without a cache: ``base`` unchanged.
    """
    base = base or shipped_changes()
    try:
        fetched = read_klass_cache(raw_dir)
    except HarmonizeError:
        return base
    key = ["old_code", "new_code", "year"]
    first, last = base.coverage or (-math.inf, math.inf)
    inside = fetched.changes.filter(pl.col("year").is_between(first, last))
    lo, hi = fetched.coverage or (first, last)
    mine = base.changes.filter(pl.col("year").is_between(max(first, lo), min(last, hi)))
    extra = inside.join(mine, on=key, how="anti").select(key).rows()
    missing = mine.join(inside, on=key, how="anti").select(key).rows()
    if extra or missing:
        raise HarmonizeError(
            f"KLASS ({fetched.source}) and {base.source} disagree on changes effective {max(first, lo)}-"
            f"{min(last, hi)}: only in KLASS {extra[:5]}, only in the shipped table {missing[:5]}"
        )
    later = fetched.changes.filter(pl.col("year") > last)
    if later.is_empty():
        return base
    coverage = (int(first), max(int(last), int(later["year"].max())))  # type: ignore[arg-type]
    return ChangeTable(pl.concat([base.changes, later]).sort("year", "old_code", "new_code"),
                       codes=fetched.codes if fetched.codes is not None else base.codes,
                       coverage=coverage, source=f"{base.source} + {fetched.source}")


def read_fhi(path: str | Path) -> ChangeTable:
    """FHI csdata ``norway_locations.xlsx``: one row per code with the code it became.

    A row (municip_code, year_end, municip_code_end, weighting) is a change effective 1 January
    of year_end + 1. FHI's year_start of the codes created in 2024 reads 2023 (one year before
    the change that created them); such starts are moved to the year of that change.
    """
    df = pl.read_excel(path, infer_schema_length=0)
    return _fhi_table(df, str(path)).with_known_parts()


def _fhi_table(df: pl.DataFrame, where: str) -> ChangeTable:
    df = df.select(
        pl.col("municip_code").cast(pl.String), pl.col("municip_name").cast(pl.String),
        pl.col("municip_code_end").cast(pl.String), pl.col("weighting").cast(pl.String),
        pl.col("year_start").cast(pl.Int16), pl.col("year_end").cast(pl.Int16),
        (pl.col("county_name") if "county_name" in df.columns else pl.lit(None)).cast(pl.String)
        .alias("county_name"),
    ).filter(pl.col("municip_code").str.starts_with("municip_nor"))
    df = df.with_columns(
        pl.col("municip_code").str.strip_prefix("municip_nor").alias("code"),
        pl.col("municip_code_end").str.strip_prefix("municip_nor").alias("end"),
        pl.col("weighting").str.replace(",", ".").cast(pl.Float64).alias("weight"),
    )
    names = dict(df.select("code", "municip_name").unique("code").iter_rows())
    edges = df.filter(pl.col("end").is_not_null()).select(
        pl.col("code").alias("old_code"), pl.col("municip_name").alias("old_name"),
        pl.col("end").alias("new_code"),
        pl.col("end").replace_strict(names, default=None).alias("new_name"),
        (pl.col("year_end") + 1).cast(pl.Int16).alias("year"), "weight",
    )
    changes = normalise(_with_notes(edges, "FHI csdata 'weighting'"))
    starts = changes.group_by("new_code").agg(pl.col("year").min().alias("first"))
    codes = (
        df.unique("code", keep="first", maintain_order=True)
        .join(starts, left_on="code", right_on="new_code", how="left")
        .select(
            "code", pl.col("municip_name").alias("name"),
            # FHI dates the codes of 2024 from 2023: a start one year before the first change
            # into the code is that quirk; an older start is a code that later absorbed others.
            pl.when(pl.col("first") == pl.col("year_start") + 1).then(pl.col("first"))
            .otherwise(pl.col("year_start")).cast(pl.Int16).alias("valid_from"),
            pl.col("year_end").cast(pl.Int16).alias("valid_to"),
            "county_name",
        )
    )
    return ChangeTable(changes, codes=codes, source=where)


def _with_notes(edges: pl.DataFrame, weight_source: str) -> pl.DataFrame:
    """Each edge's kind (renumbered, merged or split) and where a split weight comes from."""
    n_new = pl.len().over("old_code", "year")
    n_old = pl.len().over("new_code", "year")
    kind = (
        pl.when(n_new > 1).then(pl.lit("split"))
        .when(n_old > 1).then(pl.lit("merged"))
        .otherwise(pl.lit("renumbered"))
    )
    weight_note = pl.when((n_new > 1) & pl.col("weight").is_not_null()).then(
        pl.lit(f"; weight from {weight_source} (approximate, not population-based)")
    ).otherwise(pl.lit(""))
    return edges.with_columns(kind.alias("kind"), weight_note.str.strip_prefix("; ").replace("", None).alias("note"))


def code_mapping(
    from_year: int, to_year: int, *, changes: Any = None, codes: Iterable[str] | None = None,
    weights: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Shortcut for ``load_changes(changes).mapping(...)``."""
    return load_changes(changes).mapping(from_year, to_year, codes=codes, weights=weights)
